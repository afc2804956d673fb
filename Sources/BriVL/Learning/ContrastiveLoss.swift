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
public struct InBatchContrastiveLoss: Sendable {
    public var maximumScale: Double

    public init(maximumScale: Double = 100) {
        self.maximumScale = maximumScale
    }

    /// - Parameters:
    ///   - image: [batch, dim], L2-normalised
    ///   - text: [batch, dim], L2-normalised
    ///   - logScale: scalar tensor, log(1/τ) (learnable)
    public func callAsFunction(image: Tensor, text: Tensor, logScale: Tensor) throws -> ContrastiveLossOutput {
        guard image.rank == 2, image.shape == text.shape else {
            throw ModelError.invalidInput("image \(image.shape) and text \(text.shape) embeddings must both be [batch, dim]")
        }
        let scale = try logScale.exp().clamped(max: maximumScale)
        let logits = try image.matmul(text.transposed()) * scale
        let labels = try Tensor.arange(image.size(0), device: image.device)
        let imageToText = try Functional.crossEntropy(logits: logits, targets: labels)
        let textToImage = try Functional.crossEntropy(logits: logits.transposed(), targets: labels)
        return ContrastiveLossOutput(
            loss: try (imageToText + textToImage) * 0.5, imageToText: imageToText, textToImage: textToImage,
            scale: try scale.item())
    }
}

/// MoCo's cross-modal loss as BriVL uses it: each image query is scored against its momentum text key (the positive)
/// and the text queue (negatives), and each text query against its momentum image key and the image queue; the loss
/// is the sum of the two cross-entropies, at a fixed temperature (BriVL: 0.07).
public struct MomentumContrastiveLoss: Sendable {
    public var temperature: Double

    public init(temperature: Double = 0.07) throws {
        guard temperature > 0 else { throw ModelError.invalidConfiguration("temperature must be positive") }
        self.temperature = temperature
    }

    /// - Parameters:
    ///   - imageQueries, textQueries: [batch, dim], L2-normalised, from the trained towers
    ///   - imageKeys, textKeys: [batch, dim], L2-normalised, from the momentum towers (no gradient flows into them)
    ///   - imageQueue, textQueue: [K, dim] keys of earlier batches
    public func callAsFunction(
        imageQueries: Tensor, textQueries: Tensor, imageKeys: Tensor, textKeys: Tensor, imageQueue: Tensor,
        textQueue: Tensor
    ) throws -> ContrastiveLossOutput {
        let imageToText = try crossEntropy(queries: imageQueries, positives: textKeys.detach(), queue: textQueue.detach())
        let textToImage = try crossEntropy(queries: textQueries, positives: imageKeys.detach(), queue: imageQueue.detach())
        return ContrastiveLossOutput(
            loss: try imageToText + textToImage, imageToText: imageToText, textToImage: textToImage,
            scale: 1 / temperature)
    }

    /// −log softmax of the positive among [positive | queue], with logits q·k/τ.
    private func crossEntropy(queries: Tensor, positives: Tensor, queue: Tensor) throws -> Tensor {
        guard queries.shape == positives.shape, queue.rank == 2, queue.size(1) == queries.size(1) else {
            throw ModelError.invalidInput(
                "queries \(queries.shape), keys \(positives.shape) and queue \(queue.shape) do not fit together")
        }
        let positive = try (queries * positives).sum(dimension: 1, keepDimensions: true)
        let negatives = try queries.matmul(queue.transposed())
        let logits = try Tensor.cat([positive, negatives], dimension: 1) / temperature
        let labels = try Tensor.zeros([queries.size(0)], dtype: .int64, device: queries.device)
        return try Functional.crossEntropy(logits: logits, targets: labels)
    }
}
