import BriVL
import ContentHashing
import Foundation
import Tokenization
import Torch

/// Where a model comes from: its configuration, its weights (keyed as ``BriVLModel``'s state dict) and the
/// vocabulary of its tokenizer. A run's checkpoint is one; imported checkpoints of other projects are others.
public protocol ModelSource {
    /// Where these weights are (a checkpoint folder, a file), as reports and messages name them.
    var identity: String { get }
    /// What the weights are: equal for the same weights, configuration and preprocessing however their path is
    /// spelled, different for any other model (an index built with another fingerprint is rebuilt, and search
    /// refuses it).
    var fingerprint: String { get }
    func configuration() throws -> BriVLConfiguration
    func weights() throws -> [String: Tensor]
    func tokenizer() throws -> any TextTokenizer
    /// How images are prepared for this model's image tower.
    func imagePreprocessing() throws -> ImagePreprocessing
}

extension ModelSource {
    public func imagePreprocessing() throws -> ImagePreprocessing { .clipCenterCrop }
    public var fingerprint: String { identity }
}

/// A checkpoint of a training run: `model.json` and `model.safetensors` of a `step-…` folder, and the run's
/// `vocab.txt` (CLIP's BPE merges, `bpe_simple_vocab_16e6.txt.gz`, for a causal text tower; and
/// `preprocessing.json` when its weights were imported).
public struct RunCheckpoint: ModelSource {
    public let checkpoint: Checkpoint
    /// The run folder (the one holding `checkpoints/` and `vocab.txt`).
    public let runDirectory: String
    /// Newer checkpoints of the run folder passed over because they do not verify (empty when a step folder was
    /// named): the caller says so.
    public let damagedCheckpoints: [CheckpointDirectory.DamagedCheckpoint]

    public var identity: String { checkpoint.path }

    /// The checksums the checkpoint's manifest records for `model.safetensors` and `model.json`, and the run's
    /// `preprocessing.json` when it has one, hashed together: no file is read again.
    public var fingerprint: String {
        var parts = ["model.safetensors", "model.json"].map { checkpoint.manifest.file(named: $0)?.checksum ?? "-" }
        let preprocessing = (runDirectory as NSString).appendingPathComponent(ImagePreprocessing.fileName)
        if let data = FileManager.default.contents(atPath: preprocessing) { parts.append(ContentHash.of(data).description) }
        return "weights-\(ContentHash.of(parts.joined(separator: "+")))"
    }

    /// - Parameter path: a run folder (its newest intact checkpoint is used) or one `step-…` checkpoint folder
    ///   inside it
    public init(path: String) throws {
        let checkpointsRoot = (path as NSString).appendingPathComponent("checkpoints")
        if FileManager.default.fileExists(atPath: checkpointsRoot) {
            let (intact, damaged) = try CheckpointDirectory(root: checkpointsRoot).latestIntact()
            guard let intact else {
                if damaged.isEmpty { throw InferenceError.checkpoint("\(path) holds no complete checkpoint yet") }
                throw InferenceError.checkpoint(
                    "\(path) holds no intact checkpoint: " + damaged.map(\.description).joined(separator: "; "))
            }
            checkpoint = intact
            damagedCheckpoints = damaged
            runDirectory = path
        } else {
            let root = (path as NSString).deletingLastPathComponent
            guard let step = CheckpointDirectory.step(ofFolder: (path as NSString).lastPathComponent) else {
                throw InferenceError.checkpoint("\(path) is neither a run folder nor a step-… checkpoint folder")
            }
            checkpoint = try CheckpointDirectory(root: root).checkpoint(step: step)
            runDirectory = (root as NSString).deletingLastPathComponent
            damagedCheckpoints = []
        }
    }

    public func configuration() throws -> BriVLConfiguration { try checkpoint.document("model") }

    public func weights() throws -> [String: Tensor] { try checkpoint.tensors("model") }

    /// WordPiece over the run's `vocab.txt`, or CLIP's BPE over its merges file when the text tower is causal.
    public func tokenizer() throws -> any TextTokenizer {
        if try configuration().text.causal != nil {
            return try CLIPTokenizer(
                contentsOfFile: (runDirectory as NSString).appendingPathComponent(CLIPTokenizer.mergesFileName))
        }
        let vocabularyPath = (runDirectory as NSString).appendingPathComponent("vocab.txt")
        return try BertTokenizer(vocabulary: try Vocabulary(contentsOfFile: vocabularyPath), configuration: .chineseCLIP)
    }

    /// The run folder's `preprocessing.json` (written by `brivl import`), else our own runs' preparation.
    public func imagePreprocessing() throws -> ImagePreprocessing {
        try ImagePreprocessing.read(runDirectory: runDirectory)
    }
}
