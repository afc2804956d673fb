import BriVLData
import Foundation

/// Builds the Fashion-MNIST caption corpus: `train/`, `test/` and `zero-shot/` shard folders, `classes.json` for
/// zero-shot classification and a `corpus.json` manifest, all determined by the seed.
public struct FashionCaptionCorpus {
    public struct Configuration: Sendable {
        /// The folder holding Fashion-MNIST's idx files (`.gz` or not).
        public var sourceDirectory: String
        public var outputDirectory: String
        public var trainSamples: Int
        public var testSamples: Int
        public var zeroShotSamples: Int
        public var composer: FashionCaptionConfiguration
        public var samplesPerShard: Int

        public init(
            sourceDirectory: String = FashionMNIST.defaultDirectory, outputDirectory: String, trainSamples: Int = 20_000,
            testSamples: Int = 2_000, zeroShotSamples: Int = 1_000, composer: FashionCaptionConfiguration = .init(),
            samplesPerShard: Int = 1_000
        ) {
            self.sourceDirectory = sourceDirectory
            self.outputDirectory = outputDirectory
            self.trainSamples = trainSamples
            self.testSamples = testSamples
            self.zeroShotSamples = zeroShotSamples
            self.composer = composer
            self.samplesPerShard = samplesPerShard
        }

        public func samples(_ split: FashionCaptionSplit) -> Int {
            switch split {
            case .train: return trainSamples
            case .test, .rephrased: return testSamples
            case .zeroShot: return zeroShotSamples
            }
        }
    }

    /// Shard file names are `<prefix>-000000.tar` in each split's folder.
    public static let shardPrefix = "pairs"
    public static let manifestFile = "corpus.json"
    public static let classesFile = "classes.json"
    /// Zero-shot prompt templates that neither classes.json, the built-in templates nor any caption uses.
    public static let heldOutPromptsFile = "prompts-held-out.txt"
    /// The class name alone.
    public static let barePromptsFile = "prompts-bare.txt"

    /// The contents of ``heldOutPromptsFile``.
    public static let heldOutPrompts = [
        "拍的是{}", "这里展示的商品：{}", "{}，白色背景", "商品图：{}",
        "{}, product shot", "here we have {}", "{}, isolated on a light backdrop", "catalogue image: {}",
    ]

    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Writes the corpus; `progress(done, total)` counts samples over all splits. Refuses an output folder that
    /// already holds a corpus, so that shards of two runs never mix.
    @discardableResult
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> FashionCaptionManifest {
        let composer = try FashionCaptionComposer(configuration.composer)
        for split in FashionCaptionSplit.allCases where configuration.samples(split) < 0 {
            throw DataError.invalidConfiguration("\(split.rawValue) sample count must not be negative")
        }
        let splits = FashionCaptionSplit.allCases.filter { configuration.samples($0) > 0 }
        guard !splits.isEmpty else { throw DataError.invalidConfiguration("no samples requested") }
        // Find every source file before writing anything, so that a missing one fails fast.
        let subsets = Array(Set(splits.map(\.subset))).sorted { $0.rawValue > $1.rawValue }
        for subset in subsets { _ = try FashionMNIST.locate(subset, in: configuration.sourceDirectory) }
        try checkOutputIsFree(splits)

        var sources: [FashionMNIST.Subset: FashionMNIST] = [:]
        for subset in subsets { sources[subset] = try FashionMNIST.load(subset, from: configuration.sourceDirectory) }

        let total = splits.reduce(0) { $0 + configuration.samples($1) }
        var done = 0
        var manifest = FashionCaptionManifest(configuration: configuration)
        for split in splits {
            let source = sources[split.subset]!
            let writer = try ShardWriter(
                .init(
                    directory: directoryPath(split), prefix: Self.shardPrefix,
                    samplesPerShard: configuration.samplesPerShard))
            var reservedUse: [String: Int] = [:]
            var samplesUsingReserved = 0
            let count = configuration.samples(split)
            for start in stride(from: 0, to: count, by: Self.batchSize) {
                let batch = start..<min(count, start + Self.batchSize)
                for (scene, sample) in try Self.compose(split, batch, with: composer, from: source) {
                    try writer.write(sample)
                    for factor in scene.reservedFactors { reservedUse[factor, default: 0] += 1 }
                    if !scene.reservedFactors.isEmpty { samplesUsingReserved += 1 }
                    done += 1
                    progress(done, total)
                }
            }
            let index = try writer.finish()
            manifest.splits[split.rawValue] = FashionCaptionManifest.Split(
                directory: split.rawValue, source: split.subset.rawValue, samples: index.sampleCount,
                shards: index.shards.count, bytes: index.shards.reduce(0) { $0 + $1.bytes },
                samplesUsingReserved: samplesUsingReserved, reservedUse: reservedUse)
        }
        try write(ZeroShotClassList.standard, to: Self.classesFile)
        try writeText(
            "# Zero-shot prompts no training caption and no other prompt set uses (one per line, {} is the class)\n"
                + Self.heldOutPrompts.joined(separator: "\n") + "\n", to: Self.heldOutPromptsFile)
        try writeText("# The bare class name\n{}\n", to: Self.barePromptsFile)
        try write(manifest, to: Self.manifestFile)
        return manifest
    }

    /// Samples composed at once before they are written in order.
    static let batchSize = 512

    /// Composes samples `indices` of `split` on every core. Each sample depends only on its index, so the result
    /// (returned in index order) is the same as composing them one by one.
    static func compose(
        _ split: FashionCaptionSplit, _ indices: Range<Int>, with composer: FashionCaptionComposer, from source: FashionMNIST
    ) throws -> [(FashionScene, Sample)] {
        let slots = ComposedSamples(count: indices.count)
        DispatchQueue.concurrentPerform(iterations: indices.count) { offset in
            slots.store(offset, Result { try composer.sample(split, index: indices.lowerBound + offset, from: source) })
        }
        return try slots.results.map { try $0!.get() }
    }

    public func directoryPath(_ split: FashionCaptionSplit) -> String {
        (configuration.outputDirectory as NSString).appendingPathComponent(split.rawValue)
    }

    private func checkOutputIsFree(_ splits: [FashionCaptionSplit]) throws {
        let output = configuration.outputDirectory
        let manifest = (output as NSString).appendingPathComponent(Self.manifestFile)
        let used = splits.map(directoryPath).filter {
            !((try? FileManager.default.contentsOfDirectory(atPath: $0)) ?? []).isEmpty
        }
        guard !FileManager.default.fileExists(atPath: manifest), used.isEmpty else {
            throw DataError.invalidConfiguration(
                "\(output) already holds a corpus (\(used.first ?? manifest)); remove it or choose another output folder")
        }
    }

    private func writeText(_ text: String, to name: String) throws {
        let path = (configuration.outputDirectory as NSString).appendingPathComponent(name)
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError.io(file: path, message: "cannot write: \(error)")
        }
    }

    private func write<T: Encodable>(_ value: T, to name: String) throws {
        let path = (configuration.outputDirectory as NSString).appendingPathComponent(name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError.io(file: path, message: "cannot write: \(error)")
        }
    }
}

/// Slots that concurrent composing fills, one per sample.
private final class ComposedSamples: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<(FashionScene, Sample), Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ offset: Int, _ result: Result<(FashionScene, Sample), Error>) {
        lock.lock()
        slots[offset] = result
        lock.unlock()
    }

    /// Every slot's result; read after all stores finished.
    var results: [Result<(FashionScene, Sample), Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

/// `corpus.json`: what was generated, from what, and what the training split never saw.
public struct FashionCaptionManifest: Codable, Sendable, Equatable {
    public struct Split: Codable, Sendable, Equatable {
        /// Relative to the corpus folder.
        public var directory: String
        /// The Fashion-MNIST half its items come from ("train" or "t10k").
        public var source: String
        public var samples: Int
        public var shards: Int
        public var bytes: Int
        /// Samples with at least one held-out factor.
        public var samplesUsingReserved: Int
        /// Samples per held-out factor, e.g. "colour:purple".
        public var reservedUse: [String: Int]
    }

    public struct Reserved: Codable, Sendable, Equatable {
        public var chineseTemplates: [String]
        public var englishTemplates: [String]
        public var colours: [String]
        /// Pairs of places, e.g. "top-left+bottom-right".
        public var layouts: [String]
    }

    public struct Colour: Codable, Sendable, Equatable {
        public var english: String
        public var chinese: String
        public var rgb: [Int]
    }

    public var seed: UInt64
    public var imageSize: Int
    public var itemsPerImage: [Int]
    public var itemScale: [Double]
    public var background: [Int]
    public var chineseTemplates: [String]
    public var englishTemplates: [String]
    public var colours: [Colour]
    public var reserved: Reserved
    /// ``TrainingCaptionSet``'s raw value; absent in corpora written before it existed (which are `full`).
    public var trainingCaptions: String?
    /// Whether training records carry hard negatives; absent in corpora written before they existed (none).
    public var hardNegatives: Bool?
    /// By split name ("train", "test", "zero-shot").
    public var splits: [String: Split]

    init(configuration: FashionCaptionCorpus.Configuration) {
        let composer = configuration.composer
        seed = composer.seed
        imageSize = composer.imageSize
        itemsPerImage = [composer.itemCounts.lowerBound, composer.itemCounts.upperBound]
        itemScale = [composer.itemScale.lowerBound, composer.itemScale.upperBound]
        background = [composer.background.red, composer.background.green, composer.background.blue].map(Int.init)
        chineseTemplates = CaptionTemplate.chinese.map(\.id)
        englishTemplates = CaptionTemplate.english.map(\.id)
        colours = TintColour.palette.map {
            Colour(english: $0.english, chinese: $0.chinese, rgb: [$0.pixel.red, $0.pixel.green, $0.pixel.blue].map(Int.init))
        }
        reserved = Reserved(
            chineseTemplates: composer.reserved.chineseTemplates, englishTemplates: composer.reserved.englishTemplates,
            colours: composer.reserved.colours, layouts: composer.reserved.positionPairs.map(\.id))
        trainingCaptions = composer.trainingCaptions.rawValue
        hardNegatives = composer.hardNegatives
        splits = [:]
    }

    public static func read(from path: String) throws -> FashionCaptionManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the corpus manifest")
        }
        do {
            return try JSONDecoder().decode(FashionCaptionManifest.self, from: data)
        } catch {
            throw DataError.invalidFile(file: path, reason: "not a caption corpus manifest: \(error)")
        }
    }
}

/// The class list of the Fashion-MNIST corpora.
extension ZeroShotClassList {
    public static let standard = ZeroShotClassList(
        classes: FashionMNIST.classes.map {
            Entry(
                label: $0.label, datasetName: $0.datasetName, chinese: $0.chinese, english: $0.english,
                englishWithArticle: $0.englishWithArticle, measureWord: $0.measureWord)
        },
        chinesePrompts: ["一张{}的照片", "{}的图片", "图中是{}", "一张有{}的图片"],
        englishPrompts: ["a photo of {}", "a picture of {}", "{} on a plain background", "an image showing {}"])
}
