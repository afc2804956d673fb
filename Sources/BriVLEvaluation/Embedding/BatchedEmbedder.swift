import BriVL
import Tokenization
import Torch

/// Runs a model's towers over many inputs for evaluation: in batches, in evaluation mode (no dropout, BN running
/// statistics), without building a graph. The model's training flag is restored afterwards.
public struct BatchedEmbedder {
    public let model: BriVLModel
    public let tokenizer: BertTokenizer
    public var batchSize: Int

    public init(model: BriVLModel, tokenizer: BertTokenizer, batchSize: Int = 128) {
        self.model = model
        self.tokenizer = tokenizer
        self.batchSize = Swift.max(1, batchSize)
    }

    /// [n, 3, size, size] preprocessed images → [n, dim] L2-normalised embeddings.
    public func embedImages(_ images: Tensor) throws -> Tensor {
        try inBatches(count: images.size(0)) { start, length in
            try model.encodeImage(images.narrowed(dimension: 0, start: start, length: length))
        }
    }

    /// The image tower's vectors before its head ([n, count, width]); with a frozen backbone they can be computed
    /// once and the head trained on them.
    public func imageFeatures(_ images: Tensor) throws -> Tensor {
        try inBatches(count: images.size(0)) { start, length in
            try model.imageTower.features(images.narrowed(dimension: 0, start: start, length: length))
        }
    }

    /// Texts → [n, dim] L2-normalised embeddings, truncated to the model's text length.
    public func embedTexts(_ texts: [String]) throws -> Tensor {
        guard !texts.isEmpty else { throw EvaluationError.invalidArgument("no texts to embed") }
        let length = model.configuration.text.maxLength
        return try inBatches(count: texts.count) { start, count in
            let encoded = tokenizer.encodeBatch(Array(texts[start..<start + count]), maxLength: length)
            return try model.encodeText(
                tokenIDs: Tensor(encoded.ids, shape: encoded.shape),
                attentionMask: Tensor(encoded.attentionMask, shape: encoded.shape))
        }
    }

    /// One embedding per class: the normalised mean of its prompts' embeddings (CLIP's prompt ensembling), as the
    /// trainer's zero-shot validation computes it (``ZeroShotClassifier``). Returns [classes, dim].
    public func embedClasses(prompts: [[String]]) throws -> Tensor {
        guard !prompts.isEmpty, prompts.allSatisfy({ !$0.isEmpty }) else {
            throw EvaluationError.invalidArgument("every class needs at least one prompt")
        }
        return try ZeroShotClassifier(
            model: model, tokenizer: tokenizer, classNames: prompts.indices.map(String.init), prompts: prompts
        ).classEmbeddings
    }

    private func inBatches(count: Int, _ encode: (Int, Int) throws -> Tensor) throws -> Tensor {
        guard count > 0 else { throw EvaluationError.invalidArgument("nothing to embed") }
        let wasTraining = model.training
        model.eval()
        defer { model.train(wasTraining) }
        return try withNoGrad {
            try Tensor.cat(stride(from: 0, to: count, by: batchSize).map { try encode($0, Swift.min(batchSize, count - $0)) })
        }
    }
}
