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
    case openCLIP = "open-clip"

    /// What the source model expects of an image before its tower sees it (Chinese-CLIP: the whole image
    /// squeezed to the square, bicubic, OpenAI CLIP statistics — `cn_clip.clip.utils.image_transform`; OpenCLIP:
    /// the shorter side resized, the centre cropped, the same statistics — `open_clip.transform`).
    var preprocessing: ImagePreprocessing {
        switch self {
        case .chineseCLIP: ImagePreprocessing(resize: .square, normalization: .clip)
        case .openCLIP: ImagePreprocessing(resize: .shorterSideCenterCrop, normalization: .clip)
        }
    }

    /// The tokenizer file the run folder keeps: a WordPiece `vocab.txt`, or CLIP's BPE merges.
    var vocabularyFileName: String {
        switch self {
        case .chineseCLIP: "vocab.txt"
        case .openCLIP: CLIPTokenizer.mergesFileName
        }
    }

    /// The size of the vocabulary in `file`, read as this source's tokenizer reads it.
    func vocabularySize(of file: String) throws -> Int {
        switch self {
        case .chineseCLIP: try Vocabulary(contentsOfFile: file).count
        case .openCLIP: try CLIPTokenizer(contentsOfFile: file).vocabularySize
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
    /// The blocks' activation, where the file cannot tell it (OpenCLIP: GELU, or QuickGELU for OpenAI's weights).
    public var activation: Activation?

    enum CodingKeys: String, CodingKey {
        case source, file, bytes, sha256, model, parameters, epoch, step, preprocessing
        case embeddingSize = "embedding_size"
        case contextLength = "context_length"
        case ignoredKeys = "ignored_keys"
        case activation
    }

    public static let fileName = "model-card.json"
}

/// Turns a released checkpoint into a run folder every command reads: `checkpoints/step-00000000/` (model.json
/// and model.safetensors), the tokenizer's file (`vocab.txt`, or CLIP's BPE merges), `preprocessing.json` and
/// `model-card.json`. The folder is written beside its destination and
/// renamed into place, so a failed import leaves nothing at `output`.
public struct WeightImport: Sendable {
    public var source: ImportSource
    /// The torch.save (or safetensors) file.
    public var file: String
    /// The tokenizer vocabulary the text tower was trained with, which neither project puts in its checkpoints:
    /// Chinese-CLIP's `vocab.txt`, OpenCLIP's `bpe_simple_vocab_16e6.txt.gz` (both in the projects' packages).
    public var vocabulary: String
    public var output: String
    /// The configuration's name; default: the file's stem.
    public var name: String?
    public var contextLength: Int?
    /// QuickGELU blocks instead of GELU (OpenCLIP only: OpenAI's weights; Chinese-CLIP's always are).
    public var quickGELU: Bool

    public init(
        source: ImportSource, file: String, vocabulary: String, output: String, name: String? = nil,
        contextLength: Int? = nil, quickGELU: Bool = false
    ) {
        self.quickGELU = quickGELU
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
        if quickGELU, source != .openCLIP {
            throw ImportError.invalidOption("--quick-gelu is for --from open-clip (Chinese-CLIP's blocks always use QuickGELU)")
        }
        let vocabularySize: Int
        do { vocabularySize = try source.vocabularySize(of: vocabulary) } catch {
            throw ImportError.io("cannot read the vocabulary \(vocabulary): \(error)")
        }

        // The digest takes longest (SHA-256 runs at ~150 MB/s a core): it runs beside the mapping and the writing.
        let digest = BackgroundDigest(file: file)
        progress("reading \(file)")
        let (tensors, epoch, step) = try Self.readStateDictionary(file)
        let modelName = name ?? Self.defaultName(of: file)
        progress("mapping \(tensors.count) tensors")
        let converted: (configuration: BriVLConfiguration, weights: [String: Tensor], ignored: [String])
        switch source {
        case .chineseCLIP:
            converted = try ChineseCLIP.convert(
                tensors, name: modelName, contextLength: contextLength ?? ChineseCLIP.contextLength)
        case .openCLIP:
            converted = try OpenCLIP.convert(
                tensors, name: modelName, activation: quickGELU ? .quickGELU : .gelu, contextLength: contextLength)
        }
        let configuration = converted.configuration
        guard vocabularySize == configuration.text.vocabularySize else {
            throw ImportError.shapeMismatch(
                "the vocabulary \(vocabulary) has \(vocabularySize) tokens but the text tower embeds "
                    + "\(configuration.text.vocabularySize): it is not the vocabulary this model was trained with")
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
                preprocessing: source.preprocessing, ignoredKeys: converted.ignored,
                activation: source == .openCLIP ? (quickGELU ? .quickGELU : .gelu) : nil)
        }
    }

    /// The file's stem, or its folder's name when the stem is one every release uses (OpenCLIP's
    /// `open_clip_pytorch_model.bin` inside a folder named after the model).
    static func defaultName(of file: String) -> String {
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        guard ["open_clip_pytorch_model", "open_clip_model", "pytorch_model", "model"].contains(stem) else { return stem }
        let folder = ((file as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return folder.isEmpty || folder == "." ? stem : folder
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
            try FileManager.default.copyItem(
                atPath: vocabulary, toPath: (scratch as NSString).appendingPathComponent(source.vocabularyFileName))
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
