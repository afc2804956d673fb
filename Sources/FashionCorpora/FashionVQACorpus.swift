import BriVLData
import Foundation
import Imaging

/// Builds a compositional VQA set from Fashion-MNIST canvases: `train/` (items from the training images) and `test/`
/// (items from the test images), each with `images/*.png` and a `questions.jsonl` of multiple-choice questions (what,
/// what colour, where, how many) in Chinese and English, and a `vqa.json` manifest. Everything is determined by the
/// seed.
///
/// The canvases are the caption corpus's (``FashionCaptionComposer``) with nothing held out: every colour and layout
/// may appear in both splits, since what the split tests is new item images and new combinations.
public struct FashionVQACorpus: Sendable {
    public struct Configuration: Sendable {
        /// The folder holding Fashion-MNIST's idx files (`.gz` or not).
        public var sourceDirectory: String
        public var outputDirectory: String
        /// Images of each split; each gets ``questionsPerImage`` questions.
        public var trainImages: Int
        public var testImages: Int
        /// Questions per image, each of a different kind (fewer when the scene allows fewer).
        public var questionsPerImage: Int
        public var optionCount: Int
        public var imageSize: Int
        public var seed: UInt64

        public init(
            sourceDirectory: String = FashionMNIST.defaultDirectory, outputDirectory: String, trainImages: Int = 5_000,
            testImages: Int = 1_000, questionsPerImage: Int = 2, optionCount: Int = 4, imageSize: Int = 64,
            seed: UInt64 = 0
        ) {
            self.sourceDirectory = sourceDirectory
            self.outputDirectory = outputDirectory
            self.trainImages = trainImages
            self.testImages = testImages
            self.questionsPerImage = questionsPerImage
            self.optionCount = optionCount
            self.imageSize = imageSize
            self.seed = seed
        }

        func images(_ split: FashionCaptionSplit) -> Int { split == .train ? trainImages : testImages }

        /// The composer's settings: the caption corpus's defaults, nothing held out.
        var composer: FashionCaptionConfiguration {
            FashionCaptionConfiguration(
                imageSize: imageSize,
                reserved: FashionCaptionReservation(
                    chineseTemplates: [], englishTemplates: [], colours: [], positionPairs: []),
                seed: seed)
        }
    }

    public static let questionsFile = "questions.jsonl"
    public static let imagesDirectory = "images"
    public static let manifestFile = "vqa.json"
    /// The splits written, in order.
    public static let splits: [FashionCaptionSplit] = [.train, .test]

    /// Separates the question streams from the composer's scene streams.
    private static let streamTag = 0x4641_5348_5651_41  // "FASHVQA"

    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// The image and questions of image `index` of `split`: a pure function of (seed, split, index).
    public func compose(
        _ split: FashionCaptionSplit, index: Int, composer: FashionCaptionComposer, writer: FashionVQAQuestionWriter,
        from source: FashionMNIST
    ) throws -> (scene: FashionScene, questions: [FashionVQAQuestion], png: Data) {
        let scene = try composer.scene(split, index: index, from: source)
        var random = LoaderRandom(seed: configuration.seed, stream: .sample, Self.streamTag, split.streamCode, index)
        let questions = writer.questions(about: scene, count: configuration.questionsPerImage, random: &random)
        return (scene, questions, try composer.render(scene, from: source).pngData())
    }

    /// The records of image `index`'s questions, as they are written to `questions.jsonl`.
    public func records(
        _ split: FashionCaptionSplit, index: Int, questions: [FashionVQAQuestion]
    ) -> [VQARecord] {
        questions.enumerated().map { number, question in
            VQARecord(
                id: "\(split.rawValue)-\(Self.imageName(index).dropLast(4))-\(number)",
                image: "\(Self.imagesDirectory)/\(Self.imageName(index))", question: question.question,
                options: question.options, answer: question.answer, type: question.type,
                language: question.language.rawValue, kind: question.kind.rawValue)
        }
    }

    /// E.g. "000001.png".
    public static func imageName(_ index: Int) -> String { String(format: "%06d.png", index) }

    public func directoryPath(_ split: FashionCaptionSplit) -> String {
        (configuration.outputDirectory as NSString).appendingPathComponent(split.rawValue)
    }

    /// Writes both splits and the manifest; `progress(done, total)` counts images over both splits. Refuses an output
    /// folder that already holds a set, so that two runs never mix.
    @discardableResult
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> FashionVQAManifest {
        try validate()
        let composer = try FashionCaptionComposer(configuration.composer)
        let writer = try FashionVQAQuestionWriter(optionCount: configuration.optionCount)
        let splits = Self.splits.filter { configuration.images($0) > 0 }
        for split in splits { _ = try FashionMNIST.locate(split.subset, in: configuration.sourceDirectory) }
        try checkOutputIsFree(splits)

        let total = splits.reduce(0) { $0 + configuration.images($1) }
        var done = 0
        var manifest = FashionVQAManifest(configuration: configuration)
        for split in splits {
            let source = try FashionMNIST.load(split.subset, from: configuration.sourceDirectory)
            let directory = directoryPath(split)
            let images = (directory as NSString).appendingPathComponent(Self.imagesDirectory)
            try createDirectory(images)
            let questionsPath = (directory as NSString).appendingPathComponent(Self.questionsFile)
            guard FileManager.default.createFile(atPath: questionsPath, contents: nil),
                let handle = FileHandle(forWritingAtPath: questionsPath)
            else { throw DataError.io(file: questionsPath, message: "cannot create the question file") }
            defer { try? handle.close() }

            var entry = FashionVQAManifest.Split(directory: split.rawValue, source: split.subset.rawValue)
            let count = configuration.images(split)
            for start in stride(from: 0, to: count, by: Self.batchSize) {
                let batch = start..<min(count, start + Self.batchSize)
                let composed = try Self.inParallel(batch) {
                    try compose(split, index: $0, composer: composer, writer: writer, from: source)
                }
                var lines = ""
                for (index, sample) in zip(batch, composed) {
                    let path = (images as NSString).appendingPathComponent(Self.imageName(index))
                    try write(sample.png, to: path)
                    for record in records(split, index: index, questions: sample.questions) {
                        lines += try record.jsonLine() + "\n"
                        entry.count(record)
                    }
                    entry.images += 1
                    done += 1
                    progress(done, total)
                }
                do {
                    try handle.write(contentsOf: Data(lines.utf8))
                } catch {
                    throw DataError.io(file: questionsPath, message: "cannot write: \(error)")
                }
            }
            manifest.splits[split.rawValue] = entry
        }
        try writeManifest(manifest)
        return manifest
    }

    /// Images composed at once before they are written in order.
    static let batchSize = 256

    private func validate() throws {
        let settings = configuration
        guard settings.trainImages >= 0, settings.testImages >= 0 else {
            throw DataError.invalidConfiguration("image counts must not be negative")
        }
        guard settings.trainImages + settings.testImages > 0 else {
            throw DataError.invalidConfiguration("no images requested")
        }
        guard (1...FashionVQAKind.allCases.count).contains(settings.questionsPerImage) else {
            throw DataError.invalidConfiguration(
                "questions per image must lie in 1...\(FashionVQAKind.allCases.count) (one per kind), "
                    + "got \(settings.questionsPerImage)")
        }
    }

    /// Runs `body` for every index on every core; results come back in index order. Each image depends only on its
    /// index, so the result is the same as composing them one by one.
    static func inParallel<T: Sendable>(_ indices: Range<Int>, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        let slots = ResultSlots<T>(count: indices.count)
        DispatchQueue.concurrentPerform(iterations: indices.count) { offset in
            slots.store(offset, Result { try body(indices.lowerBound + offset) })
        }
        return try slots.results.map { try $0!.get() }
    }

    private func checkOutputIsFree(_ splits: [FashionCaptionSplit]) throws {
        let manifest = (configuration.outputDirectory as NSString).appendingPathComponent(Self.manifestFile)
        let used = splits.map { (directoryPath($0) as NSString).appendingPathComponent(Self.questionsFile) }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard !FileManager.default.fileExists(atPath: manifest), used.isEmpty else {
            throw DataError.invalidConfiguration(
                "\(configuration.outputDirectory) already holds a VQA set (\(used.first ?? manifest)); remove it or "
                    + "choose another output folder")
        }
    }

    private func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(file: path, message: "cannot create the folder: \(error)")
        }
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw DataError.io(file: path, message: "cannot write: \(error)")
        }
    }

    private func writeManifest(_ manifest: FashionVQAManifest) throws {
        let path = (configuration.outputDirectory as NSString).appendingPathComponent(Self.manifestFile)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(try encoder.encode(manifest), to: path)
    }
}

/// Slots that concurrent work fills, one per index.
private final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ offset: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[offset] = result
        lock.unlock()
    }

    /// Every slot's result; read after all stores finished.
    var results: [Result<T, Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

/// `vqa.json`: what was generated, from what, and how many questions of each type and kind.
public struct FashionVQAManifest: Codable, Sendable, Equatable {
    public struct Split: Codable, Sendable, Equatable {
        /// Relative to the set's folder.
        public var directory: String
        /// The Fashion-MNIST half its items come from ("train" or "t10k").
        public var source: String
        public var images = 0
        public var questions = 0
        /// Questions by type ("what") and by kind ("colour").
        public var types: [String: Int] = [:]
        public var kinds: [String: Int] = [:]
        /// Questions by language ("zh", "en").
        public var languages: [String: Int] = [:]

        mutating func count(_ record: VQARecord) {
            questions += 1
            types[record.type.rawValue, default: 0] += 1
            if let kind = record.kind { kinds[kind, default: 0] += 1 }
            languages[record.language, default: 0] += 1
        }
    }

    public var seed: UInt64
    public var imageSize: Int
    public var questionsPerImage: Int
    public var optionCount: Int
    /// By split name ("train", "test").
    public var splits: [String: Split]

    init(configuration: FashionVQACorpus.Configuration) {
        seed = configuration.seed
        imageSize = configuration.imageSize
        questionsPerImage = configuration.questionsPerImage
        optionCount = configuration.optionCount
        splits = [:]
    }
}
