import BriVL
import BriVLData
import Foundation
import Imaging
import Tokenization
import Torch

/// A trained model read back from a run: its configuration and weights from a checkpoint, its tokenizer from the
/// run's `vocab.txt`, and the evaluation preprocessing it was validated with.
public final class TrainedModel {
    public let model: BriVLModel
    public let tokenizer: BertTokenizer
    public let checkpoint: Checkpoint
    /// Shorter side to the model's size, centre crop, CLIP normalisation.
    public let preprocessing: ImagePipeline

    /// - Parameter path: a run folder (its latest checkpoint is used) or one `step-…` checkpoint folder inside it
    public init(path: String) throws {
        let fileManager = FileManager.default
        let checkpointsRoot = (path as NSString).appendingPathComponent("checkpoints")
        let runDirectory: String
        if fileManager.fileExists(atPath: checkpointsRoot) {
            guard let latest = try CheckpointDirectory(root: checkpointsRoot).latest() else {
                throw TrainingError.checkpoint("\(path) holds no complete checkpoint yet")
            }
            checkpoint = latest
            runDirectory = path
        } else {
            let root = (path as NSString).deletingLastPathComponent
            guard let step = CheckpointDirectory.step(ofFolder: (path as NSString).lastPathComponent) else {
                throw TrainingError.checkpoint("\(path) is neither a run folder nor a step-… checkpoint folder")
            }
            checkpoint = try CheckpointDirectory(root: root).checkpoint(step: step)
            runDirectory = (root as NSString).deletingLastPathComponent
        }
        let configuration: BriVLConfiguration = try checkpoint.document("model")
        model = try BriVLModel(configuration)
        try model.load(stateDict: try checkpoint.tensors("model"))
        model.eval()
        let vocabularyPath = (runDirectory as NSString).appendingPathComponent("vocab.txt")
        tokenizer = try BertTokenizer(
            vocabulary: try Vocabulary(contentsOfFile: vocabularyPath), configuration: .chineseCLIP)
        guard tokenizer.vocabulary.count == configuration.text.bert.vocabularySize else {
            throw TrainingError.checkpoint(
                "\(vocabularyPath) has \(tokenizer.vocabulary.count) entries, the model expects "
                    + "\(configuration.text.bert.vocabularySize)")
        }
        preprocessing = try ImagingSampleDecoder.evaluation(size: configuration.image.imageSize).pipeline
    }

    /// Embeddings of encoded images (JPEG/PNG/WebP bytes): [n, dim].
    public func embedImages(_ images: [Data]) throws -> Tensor {
        var random = SeededRandom(seed: 0)
        let tensors = try images.map { try preprocessing.tensor(decoding: $0, using: &random) }
        return try withNoGrad { try model.encodeImage(Tensor.stack(tensors)) }
    }

    /// Embeddings of texts: [n, dim].
    public func embedTexts(_ texts: [String]) throws -> Tensor {
        let encoded = tokenizer.encodeBatch(texts, maxLength: model.configuration.text.maxLength)
        let ids = try Tensor(encoded.ids, shape: encoded.shape)
        let mask = try Tensor(encoded.attentionMask, shape: encoded.shape)
        return try withNoGrad { try model.encodeText(tokenIDs: ids, attentionMask: mask) }
    }
}

/// The cleaning run's relevance filter backed by a trained model: the cosine of each pair's image and caption.
public final class ModelRelevanceScorer: RelevanceScorer, @unchecked Sendable {
    private let trained: TrainedModel
    private let lock = NSLock()
    public let identifier: String

    public init(_ trained: TrainedModel) {
        self.trained = trained
        identifier = "brivl:\(trained.model.configuration.name)@\(trained.checkpoint.path)"
    }

    public func score(image: Data, text: String) throws -> Float {
        try scores([(image, text)])[0]
    }

    /// Scores a batch in one forward pass per tower; the model is used by one caller at a time.
    public func scores(_ pairs: [(image: Data, text: String)]) throws -> [Float] {
        guard !pairs.isEmpty else { return [] }
        return try lock.withLock {
            let images = try trained.embedImages(pairs.map(\.image))
            let texts = try trained.embedTexts(pairs.map(\.text))
            return try (images * texts).sum(dimension: 1).toArray(Float.self)
        }
    }
}
