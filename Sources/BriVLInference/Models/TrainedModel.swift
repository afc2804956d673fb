import BriVL
import Foundation
import Imaging
import Tokenization
import Torch

/// A model ready to embed: built once from a ``ModelSource`` (no random initialisation first), in evaluation mode,
/// with its tokenizer and the evaluation preprocessing it was validated with.
public final class TrainedModel {
    public let model: BriVLModel
    public let tokenizer: any TextTokenizer
    public let source: any ModelSource
    /// The source's image preparation at the model's size (our runs: shorter side, centre crop, CLIP statistics).
    public let preprocessing: ImagePipeline

    public init(source: any ModelSource) throws {
        let configuration = try source.configuration()
        model = try BriVLModel.loading(configuration, weights: try source.weights())
        model.eval()
        tokenizer = try source.tokenizer()
        guard tokenizer.vocabularySize == configuration.text.vocabularySize else {
            throw InferenceError.source(
                "\(source.identity): the vocabulary has \(tokenizer.vocabularySize) entries, the model expects "
                    + "\(configuration.text.vocabularySize)")
        }
        preprocessing = try source.imagePreprocessing().pipeline(size: configuration.image.imageSize)
        self.source = source
    }

    /// - Parameter path: a run folder (its latest checkpoint is used) or one `step-…` checkpoint folder inside it
    public convenience init(path: String) throws {
        try self.init(source: try RunCheckpoint(path: path))
    }

    /// The run checkpoint the model was read from, nil for other sources.
    public var checkpoint: Checkpoint? { (source as? RunCheckpoint)?.checkpoint }

    /// The batched, evaluation-mode embedder of this model.
    public func embedder(batchSize: Int = 128) -> TowerEmbedder {
        TowerEmbedder(model: model, tokenizer: tokenizer, batchSize: batchSize)
    }

    /// Embeddings of encoded images (JPEG/PNG/WebP bytes): [n, dim].
    public func embedImages(_ images: [Data]) throws -> Tensor {
        var random = SeededRandom(seed: 0)
        let tensors = try images.map { try preprocessing.tensor(decoding: $0, using: &random) }
        return try embedder().embedImages(Tensor.stack(tensors))
    }

    /// Embeddings of texts: [n, dim].
    public func embedTexts(_ texts: [String]) throws -> Tensor {
        try embedder().embedTexts(texts)
    }
}
