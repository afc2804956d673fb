import BriVL
import Tokenization
import Torch

/// Zero-shot classification: every class is the mean text embedding of its prompts ("一张{}的照片" with the class
/// name filled in), and an image belongs to the class whose embedding is most similar.
public struct ZeroShotClassifier {
    /// [classes, dim], L2-normalised.
    public let classEmbeddings: Tensor
    public let classNames: [String]

    /// - Parameters:
    ///   - classNames: one name per class, as it should appear in the prompts
    ///   - templates: prompts with `{}` where the class name goes
    public init(
        model: BriVLModel, tokenizer: any TextTokenizer, classNames: [String], templates: [String], device: Device = .cpu
    ) throws {
        guard !templates.isEmpty, templates.allSatisfy({ $0.contains("{}") }) else {
            throw InferenceError.invalidArgument("zero-shot classification needs templates containing {}")
        }
        try self.init(
            model: model, tokenizer: tokenizer, classNames: classNames,
            prompts: classNames.map { name in templates.map { $0.replacingOccurrences(of: "{}", with: name) } },
            device: device)
    }

    /// - Parameter prompts: for each class, the finished prompts whose mean embedding stands for it
    public init(
        model: BriVLModel, tokenizer: any TextTokenizer, classNames: [String], prompts classPrompts: [[String]],
        device: Device = .cpu
    ) throws {
        guard !classNames.isEmpty, classPrompts.count == classNames.count, classPrompts.allSatisfy({ !$0.isEmpty })
        else {
            throw InferenceError.invalidArgument("zero-shot classification needs at least one prompt for each class")
        }
        classEmbeddings = try TowerEmbedder(model: model, tokenizer: tokenizer, device: device)
            .embedClasses(prompts: classPrompts)
        self.classNames = classNames
    }

    /// The predicted class index of each image embedding ([n, dim] → n indices).
    public func predict(imageEmbeddings: Tensor) throws -> [Int] {
        try withNoGrad {
            try imageEmbeddings.matmul(classEmbeddings.transposed()).argmax(dimension: 1).toArray(Int64.self).map(Int.init)
        }
    }
}
