import Torch

/// Contrastive multiple choice, as WenLan 2.0 fine-tunes BriVL for VQA (Visual7W-style): the image embedding is the
/// anchor, the text "question + true answer" the positive and "question + each other option" the negatives. Each
/// option scores `scale · cos(image, option)`; the loss is the cross-entropy of those scores with the answer as the
/// target, so only the options of a question compete with each other.
public struct MultipleChoiceLoss: Sendable {
    /// Multiplies the cosines (1/τ): larger sharpens the softmax over options.
    public var scale: Double

    /// A score that no option wins with, given to the empty slots of questions with fewer options than the most
    /// in a batch. Finite, so that the softmax and its gradient stay finite.
    static let paddingScore = -1e9

    public init(scale: Double) {
        self.scale = scale
    }

    /// - Parameters:
    ///   - image: [questions, dim] image embeddings (normalised here, so any length works)
    ///   - options: [questions, options, dim] text embeddings of "question option"
    ///   - padding: [questions, options] bool, true for slots that hold no option; nil when every question has all
    /// - Returns: [questions, options] scores
    public func scores(image: Tensor, options: Tensor, padding: Tensor? = nil) throws -> Tensor {
        guard image.rank == 2, options.rank == 3, options.size(0) == image.size(0), options.size(2) == image.size(1) else {
            throw EvaluationError.invalidArgument(
                "multiple choice takes image embeddings [n, d] and option embeddings [n, k, d], got \(image.shape) "
                    + "and \(options.shape)")
        }
        let imageDirections = try Functional.normalize(image, dimension: -1)
        let optionDirections = try Functional.normalize(options, dimension: -1)
        let cosines = try optionDirections.matmul(imageDirections.unsqueezed(2)).squeezed(2)
        let scores = try cosines * scale
        guard let padding else { return scores }
        return try scores.maskedFill(padding, with: Self.paddingScore)
    }

    /// The mean cross-entropy over questions.
    ///
    /// - Parameter answers: [questions] int64, the index of each question's right option
    public func callAsFunction(image: Tensor, options: Tensor, answers: Tensor, padding: Tensor? = nil) throws -> Tensor {
        try Functional.crossEntropy(logits: scores(image: image, options: options, padding: padding), targets: answers)
    }
}
