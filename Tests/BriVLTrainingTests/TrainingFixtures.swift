import BriVL
import BriVLData
import Foundation
import Imaging
import ModelTestSupport
import Torch

@testable import BriVLTraining

/// A synthetic corpus and a very small model: colour-square images captioned with their colour and side, enough
/// for a run of a few dozen steps in seconds.
enum TrainingFixtures {
    static let colours: [(name: String, english: String, pixel: [UInt8])] = [
        ("红色", "red", [220, 30, 30]), ("绿色", "green", [30, 200, 40]), ("蓝色", "blue", [30, 40, 220]),
        ("黄色", "yellow", [230, 220, 30]), ("紫色", "purple", [150, 40, 180]), ("白色", "white", [240, 240, 240]),
    ]

    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("brivl-training-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `count` pairs as shards into `directory/prefix-*.tar`; with `hardNegatives`, each caption also gets
    /// foils with the colour or the side changed.
    static func writeShards(to directory: String, count: Int, seed: Int, hardNegatives: Bool = false) throws {
        let writer = try ShardWriter(.init(directory: directory, prefix: "pairs", samplesPerShard: 16))
        for index in 0..<count {
            let colour = colours[(index * 7 + seed) % colours.count]
            let left = (index + seed) % 2 == 0
            var pixels = [UInt8](repeating: 20, count: 16 * 16 * 3)
            for y in 4..<12 {
                for x in (left ? 0 : 8)..<(left ? 8 : 16) {
                    for c in 0..<3 { pixels[(y * 16 + x) * 3 + c] = colour.pixel[c] }
                }
            }
            let image = try Image(width: 16, height: 16, pixels: pixels)
            let side = left ? ("左边", "left") : ("右边", "right")
            let other = colours[(index * 7 + seed + 1) % colours.count]
            let otherSide = left ? ("右边", "right") : ("左边", "left")
            let chinese = "\(side.0)有一个\(colour.name)方块", english = "a \(colour.english) square on the \(side.1)"
            let foils = [
                chinese: ["\(side.0)有一个\(other.name)方块", "\(otherSide.0)有一个\(colour.name)方块"],
                english: ["a \(other.english) square on the \(side.1)", "a \(colour.english) square on the \(otherSide.1)"],
            ]
            let record = PairRecord(
                texts: [chinese, english], metadata: ["label": "\(index % colours.count)"],
                hardNegatives: hardNegatives ? foils : nil)
            try writer.write(
                Sample(key: String(format: "%06d", index), files: ["png": try ImageEncoder.png(image), "json": try record.encoded()]))
        }
        _ = try writer.finish()
    }

    /// A vocabulary with the special tokens and every character and word of the captions.
    static func writeVocabulary(to path: String) throws {
        var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        let words = ["a", "square", "on", "the", "left", "right"] + colours.map(\.english)
        let characters = Set(colours.map(\.name).joined() + "左右边有一个方块").map(String.init).sorted()
        tokens += words + characters
        try tokens.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// - Parameter dropout: BERT's hidden dropout; nonzero draws from the engine's global generator, which tests
    ///   running at the same time in this process also use.
    static func model(dropout: Double = 0.1) -> BriVLConfiguration {
        TinyModels.configuration(vocabularySize: 0, dropout: dropout)
    }

    /// A complete run configuration over fresh shards in `root` (train/, validation/, vocab.txt).
    static func configuration(root: String, steps: Int, dropout: Double = 0.1) throws -> TrainingConfiguration {
        let train = (root as NSString).appendingPathComponent("train")
        let validation = (root as NSString).appendingPathComponent("validation")
        let vocabulary = (root as NSString).appendingPathComponent("vocab.txt")
        if !FileManager.default.fileExists(atPath: vocabulary) {
            try writeShards(to: train, count: 64, seed: 0)
            try writeShards(to: validation, count: 12, seed: 1)
            try writeVocabulary(to: vocabulary)
        }
        return TrainingConfiguration(
            model: model(dropout: dropout),
            objective: ObjectiveConfiguration(
                contrast: .momentum(
                    MomentumContrastConfiguration(queueSize: 16, distillation: 0.4, distillationWarmupSteps: 4)),
                maskedLanguageModelWeight: 0.5),
            data: .init(
                trainShards: train, validationShards: validation, vocabulary: vocabulary, batchSize: 4,
                shuffleBufferSize: 16),
            optimization: .init(learningRate: 1e-3, warmupSteps: 2),
            run: .init(
                steps: steps, seed: 5, logEvery: 1, validateEvery: 3, validationPairs: 12, checkpointEvery: 2,
                keepCheckpoints: 2))
    }

    /// Losses by step from a run folder's metrics.
    static func losses(in runDirectory: String) throws -> [Int: Double] {
        let log = try MetricsLog(
            path: (runDirectory as NSString).appendingPathComponent("metrics.jsonl"), keepingThrough: Int.max)
        return Dictionary(log.steps.map { ($0.step, $0.loss) }, uniquingKeysWith: { _, last in last })
    }
}
