import Torch

/// The outputs of a contrastive loss: the scalar to minimise and the parts worth logging.
public struct ContrastiveLossOutput {
    /// Scalar loss (mean of the image→text and text→image cross-entropies).
    public var loss: Tensor
    public var imageToText: Tensor
    public var textToImage: Tensor
    /// The multiplier applied to cosine similarities (1/τ).
    public var scale: Double
}

/// In-batch bidirectional InfoNCE (CLIP): pair i is the positive of row i and column i, every other pair in the
/// batch a negative, with a learnable temperature kept as a log-scale and clamped (CLIP clamps 1/τ at 100).
///
/// Hard negatives (NegCLIP) are further captions that are false of every image of the batch — each written for one
/// image with one detail changed. They join the image→text direction only, as extra columns every image is scored
/// against: image i's softmax runs over the batch's captions and all hard negatives, so a model that matches on
/// some details of a caption and ignores the rest loses to the foil that differs in a detail it ignored. The
/// text→image direction is unchanged (a foil has no image of its own).
public struct InBatchContrastiveLoss: Sendable {
    public var maximumScale: Double

    public init(maximumScale: Double = 100) {
        self.maximumScale = maximumScale
    }

    /// - Parameters:
    ///   - image: [batch, dim], L2-normalised
    ///   - text: [batch, dim], L2-normalised
    ///   - logScale: scalar tensor, log(1/τ) (learnable)
    ///   - hardNegatives: [negatives, dim], L2-normalised: extra image→text negatives (nil or no rows: none)
    public func callAsFunction(
        image: Tensor, text: Tensor, logScale: Tensor, hardNegatives: Tensor? = nil
    ) throws -> ContrastiveLossOutput {
        guard image.rank == 2, image.shape == text.shape else {
            throw ModelError.invalidInput("image \(image.shape) and text \(text.shape) embeddings must both be [batch, dim]")
        }
        if let hardNegatives, hardNegatives.rank != 2 || hardNegatives.size(1) != text.size(1) {
            throw ModelError.invalidInput(
                "hard negatives \(hardNegatives.shape) must be [negatives, \(text.size(1))] like the text embeddings")
        }
        let scale = try logScale.exp().clamped(max: maximumScale)
        let logits = try image.matmul(text.transposed()) * scale
        let labels = try Tensor.arange(image.size(0), device: image.device)
        let imageToTextLogits: Tensor
        if let hardNegatives, hardNegatives.size(0) > 0 {
            imageToTextLogits = try Tensor.cat([logits, image.matmul(hardNegatives.transposed()) * scale], dimension: 1)
        } else {
            imageToTextLogits = logits
        }
        let imageToText = try Functional.crossEntropy(logits: imageToTextLogits, targets: labels)
        let textToImage = try Functional.crossEntropy(logits: logits.transposed(), targets: labels)
        return ContrastiveLossOutput(
            loss: try (imageToText + textToImage) * 0.5, imageToText: imageToText, textToImage: textToImage,
            scale: try scale.item())
    }
}

/// MoCo's cross-modal loss as BriVL uses it: each image query is scored against its momentum text key (the positive)
/// and the text queue (negatives), and each text query against its momentum image key and the image queue; the loss
/// is the sum of the two cross-entropies.
///
/// The temperature is fixed (BriVL: 0.07) unless a learnable log-scale is passed. With a distillation weight α > 0
/// the targets are ALBEF's momentum distillation: α·softmax(the momentum keys' own scores over the same columns) +
/// (1 − α)·one-hot(positive), so near-duplicates in the queue stop being pushed away as hard negatives.
public struct MomentumContrastiveLoss: Sendable {
    public var temperature: Double
    /// Upper bound of 1/τ when the scale is learnable.
    public var maximumScale: Double
    /// Also score each query against the other momentum keys of its batch (ALBEF), not only the queue (BriVL).
    /// Queued keys come from older momentum towers than the batch's own keys; with the queue as the only negatives a
    /// model can tell the positive by its freshness instead of its content.
    public var batchNegatives: Bool

    public init(temperature: Double = 0.07, maximumScale: Double = 100, batchNegatives: Bool = false) throws {
        guard temperature > 0 else { throw ModelError.invalidConfiguration("temperature must be positive") }
        self.temperature = temperature
        self.maximumScale = maximumScale
        self.batchNegatives = batchNegatives
    }

    /// - Parameters:
    ///   - imageQueries, textQueries: [batch, dim], L2-normalised, from the trained towers
    ///   - imageKeys, textKeys: [batch, dim], L2-normalised, from the momentum towers (no gradient flows into them)
    ///   - imageQueue, textQueue: [K, dim] keys of earlier batches
    ///   - logScale: a scalar log(1/τ) to learn the temperature; nil uses the fixed ``temperature``
    ///   - distillation: α in [0, 1], the weight of the momentum towers' soft targets
    public func callAsFunction(
        imageQueries: Tensor, textQueries: Tensor, imageKeys: Tensor, textKeys: Tensor, imageQueue: Tensor,
        textQueue: Tensor, logScale: Tensor? = nil, distillation: Double = 0
    ) throws -> ContrastiveLossOutput {
        guard (0...1).contains(distillation) else {
            throw ModelError.invalidConfiguration("the distillation weight \(distillation) is not in [0, 1]")
        }
        let scale = try logScale.map { try $0.exp().clamped(max: maximumScale) } ?? Tensor(scalar: 1 / temperature)
        let imageKeys = try imageKeys.detach()
        let textKeys = try textKeys.detach()
        let imageToText = try crossEntropy(
            queries: imageQueries, positives: textKeys, queue: textQueue.detach(), scale: scale,
            teacher: distillation > 0 ? imageKeys : nil, distillation: distillation)
        let textToImage = try crossEntropy(
            queries: textQueries, positives: imageKeys, queue: imageQueue.detach(), scale: scale,
            teacher: distillation > 0 ? textKeys : nil, distillation: distillation)
        return ContrastiveLossOutput(
            loss: try imageToText + textToImage, imageToText: imageToText, textToImage: textToImage,
            scale: try scale.item())
    }

    /// −Σ target · log softmax over [positive | queue] (or [batch keys | queue]), with logits q·k·scale; the target
    /// is one-hot on the positive, mixed with the teacher's softmax over the same columns when a teacher is given.
    private func crossEntropy(
        queries: Tensor, positives: Tensor, queue: Tensor, scale: Tensor, teacher: Tensor?, distillation: Double
    ) throws -> Tensor {
        guard queries.shape == positives.shape, queue.rank == 2, queue.size(1) == queries.size(1) else {
            throw ModelError.invalidInput(
                "queries \(queries.shape), keys \(positives.shape) and queue \(queue.shape) do not fit together")
        }
        let logits = try scores(queries, positives: positives, queue: queue) * scale
        let labels =
            batchNegatives
            ? try Tensor.arange(queries.size(0), device: queries.device)
            : try Tensor.zeros([queries.size(0)], dtype: .int64, device: queries.device)
        guard let teacher else { return try Functional.crossEntropy(logits: logits, targets: labels) }
        let soft = try withNoGrad {
            let teacherProbabilities = try (scores(teacher, positives: positives, queue: queue) * scale.detach())
                .softmax(dimension: 1)
            let oneHot = try labels.oneHot(classes: logits.size(1)).to(dtype: logits.dtype)
            return try teacherProbabilities * distillation + oneHot * (1 - distillation)
        }
        return try Functional.crossEntropy(logits: logits, targets: soft)
    }

    /// [batch, 1 + K]: each row's score with its positive, then with every queued key; with batch negatives
    /// [batch, batch + K]: every key of the batch (the positive on the diagonal), then the queue.
    private func scores(_ queries: Tensor, positives: Tensor, queue: Tensor) throws -> Tensor {
        if batchNegatives { return try queries.matmul(Tensor.cat([positives, queue]).transposed()) }
        let positive = try (queries * positives).sum(dimension: 1, keepDimensions: true)
        let negatives = try queries.matmul(queue.transposed())
        return try Tensor.cat([positive, negatives], dimension: 1)
    }
}
