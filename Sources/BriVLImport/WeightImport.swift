import BriVL
import BriVLInference
import ContentHashing
import Foundation
import Imaging
import Tokenization
import Torch
import TorchNN

#if canImport(Glibc)
    import Glibc
#endif

/// The families of released weights `brivl import` reads.
public enum ImportSource: String, CaseIterable, Sendable, Codable {
    case chineseCLIP = "chinese-clip"

    /// What the source model expects of an image before its tower sees it (Chinese-CLIP: the whole image
    /// squeezed to the square, bicubic, OpenAI CLIP statistics — `cn_clip.clip.utils.image_transform`).
    var preprocessing: ImagePreprocessing {
        switch self {
        case .chineseCLIP: ImagePreprocessing(resize: .square, normalization: .clip)
        }
    }
}

/// What an imported run folder says about where its weights came from: `model-card.json`.
public struct ModelCard: Codable, Sendable, Equatable {
    public var source: ImportSource
    /// The imported file's name (not its path) and size.
    public var file: String
    public var bytes: Int
    public var sha256: String
    /// The model's name (the configuration's `name`), its parameter count and embedding width.
    public var model: String
    public var parameters: Int
    public var embeddingSize: Int
    public var contextLength: Int
    /// The source's training progress, when its file records it.
    public var epoch: Int?
    public var step: Int?
    /// Also written as the run's `preprocessing.json`, which the commands follow.
    public var preprocessing: ImagePreprocessing
    /// Source keys left out on purpose (weights the model never uses, such as BERT's pooler).
    public var ignoredKeys: [String]

    enum CodingKeys: String, CodingKey {
        case source, file, bytes, sha256, model, parameters, epoch, step, preprocessing
        case embeddingSize = "embedding_size"
        case contextLength = "context_length"
        case ignoredKeys = "ignored_keys"
    }

    public static let fileName = "model-card.json"
}

/// Turns a released checkpoint into a run folder every command reads: `checkpoints/step-00000000/` (model.json
/// and model.safetensors), `vocab.txt`, `preprocessing.json` and `model-card.json`. The folder is written beside its destination and
/// renamed into place, so a failed import leaves nothing at `output`.
public struct WeightImport: Sendable {
    public var source: ImportSource
    /// The torch.save (or safetensors) file.
    public var file: String
    /// The tokenizer vocabulary the text tower was trained with (Chinese-CLIP ships it in its package, not in the
    /// checkpoint).
    public var vocabulary: String
    public var output: String
    /// The configuration's name; default: the file's stem.
    public var name: String?
    public var contextLength: Int?

    public init(
        source: ImportSource, file: String, vocabulary: String, output: String, name: String? = nil,
        contextLength: Int? = nil
    ) {
        self.source = source
        self.file = file
        self.vocabulary = vocabulary
        self.output = output
        self.name = name
        self.contextLength = contextLength
    }

    /// Runs the import; `progress` hears each phase.
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }) throws -> ModelCard {
        guard !FileManager.default.fileExists(atPath: output) else {
            throw ImportError.io("\(output) already exists: choose another --output or remove it")
        }
        let vocabularyTokens: Vocabulary
        do { vocabularyTokens = try Vocabulary(contentsOfFile: vocabulary) } catch {
            throw ImportError.io("cannot read the vocabulary \(vocabulary): \(error)")
        }

        // The digest takes longest (SHA-256 runs at ~150 MB/s a core): it runs beside the mapping and the writing.
        let digest = BackgroundDigest(file: file)
        progress("reading \(file)")
        let (tensors, epoch, step) = try Self.readStateDictionary(file)
        let modelName = name ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        progress("mapping \(tensors.count) tensors")
        let converted: (configuration: BriVLConfiguration, weights: [String: Tensor], ignored: [String])
        switch source {
        case .chineseCLIP:
            converted = try ChineseCLIP.convert(
                tensors, name: modelName, contextLength: contextLength ?? ChineseCLIP.contextLength)
        }
        let configuration = converted.configuration
        guard vocabularyTokens.count == configuration.text.bert.vocabularySize else {
            throw ImportError.shapeMismatch(
                "the vocabulary \(vocabulary) has \(vocabularyTokens.count) tokens but the text tower embeds "
                    + "\(configuration.text.bert.vocabularySize): it is not the vocabulary this model was trained with")
        }
        try Self.check(converted.weights, fit: configuration)
        let parameters = converted.weights.values.reduce(0) { $0 + $1.count }

        progress("writing \(output)")
        return try writeRun(configuration: configuration, weights: converted.weights) { () throws -> ModelCard in
            progress("finishing the source file's SHA-256")
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            return ModelCard(
                source: source, file: (file as NSString).lastPathComponent,
                bytes: (attributes?[.size] as? NSNumber)?.intValue ?? 0, sha256: try digest.wait(),
                model: modelName, parameters: parameters, embeddingSize: configuration.embeddingSize,
                contextLength: configuration.text.maxLength, epoch: epoch, step: step,
                preprocessing: source.preprocessing, ignoredKeys: converted.ignored)
        }
    }

    /// Checks the mapped weights against the model's own state dict — every key, every shape — without building
    /// the model's weights: its parameters are allocated but never written, so they take no memory.
    static func check(_ weights: [String: Tensor], fit configuration: BriVLConfiguration) throws {
        let model = try Initialization.withoutValues { try BriVLModel(configuration) }
        let expected = Dictionary(uniqueKeysWithValues: model.stateDict())
        let missing = expected.keys.filter { weights[$0] == nil }.sorted()
        guard missing.isEmpty else { throw ImportError.missingKeys(missing) }
        let unexpected = weights.keys.filter { expected[$0] == nil }.sorted()
        guard unexpected.isEmpty else {
            throw ImportError.unexpectedKeys(unexpected.map { "\($0) \(weights[$0]!.shape)" })
        }
        let misshapen = expected.keys.sorted().filter { expected[$0]!.shape != weights[$0]!.shape }
        guard misshapen.isEmpty else {
            throw ImportError.shapeMismatch(
                "the mapped weights do not fit the model: "
                    + misshapen.map { "\($0) expects \(expected[$0]!.shape), found \(weights[$0]!.shape)" }
                    .joined(separator: "; "))
        }
    }

    /// The state dict of a torch.save file (training checkpoints: under `state_dict`) or a safetensors file,
    /// without the `module.` prefix of DistributedDataParallel; the epoch and step when recorded.
    static func readStateDictionary(_ path: String) throws -> (tensors: [String: Tensor], epoch: Int?, step: Int?) {
        guard FileManager.default.fileExists(atPath: path) else { throw ImportError.io("\(path) does not exist") }
        var tensors: [String: Tensor]
        var (epoch, step): (Int?, Int?) = (nil, nil)
        if path.hasSuffix(".safetensors") {
            tensors = try Safetensors.load(path)
        } else {
            let file = try TorchSaveFile(path)
            tensors = try file.stateDictionary()
            epoch = file.root["epoch"]?.intValue
            step = file.root["step"]?.intValue
        }
        if !tensors.isEmpty, tensors.keys.allSatisfy({ $0.hasPrefix("module.") }) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { (String($0.key.dropFirst("module.".count)), $0.value) })
        }
        return (tensors, epoch, step)
    }

    /// Writes the run into a scratch folder beside `output` and renames it into place; `card` is asked for once
    /// the weights are on disk.
    private func writeRun(
        configuration: BriVLConfiguration, weights: [String: Tensor], card: () throws -> ModelCard
    ) throws -> ModelCard {
        let parent = (output as NSString).deletingLastPathComponent
        let scratch = ((parent.isEmpty ? "." : parent) as NSString).appendingPathComponent(
            ".partial-import-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let checkpoints = try CheckpointDirectory(root: (scratch as NSString).appendingPathComponent("checkpoints"))
            try checkpoints.write(step: 0, tensors: ["model": weights], documents: ["model": configuration])
            try FileManager.default.copyItem(atPath: vocabulary, toPath: (scratch as NSString).appendingPathComponent("vocab.txt"))
            let written = try card()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(written).write(
                to: URL(fileURLWithPath: (scratch as NSString).appendingPathComponent(ModelCard.fileName)))
            try encoder.encode(written.preprocessing).write(
                to: URL(fileURLWithPath: (scratch as NSString).appendingPathComponent(ImagePreprocessing.fileName)))
            guard rename(scratch, output) == 0 else {
                throw ImportError.io("cannot move the imported run into \(output): \(String(cString: strerror(errno)))")
            }
            return written
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            if let error = error as? ImportError { throw error }
            throw ImportError.io("cannot write \(output): \(error)")
        }
    }
}

/// The SHA-256 of a file, computed on a thread of its own from the moment it is made.
final class BackgroundDigest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<String, Error> = .failure(ImportError.io("the digest was not computed"))

    init(file: String) {
        let thread = Thread { [self] in
            result = Result { try SHA256.hexDigest(ofFile: file) }
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the digest.
    func wait() throws -> String {
        done.wait()
        done.signal()
        return try result.get()
    }
}
