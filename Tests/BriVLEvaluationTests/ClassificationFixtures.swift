import BriVL
import BriVLData
import Foundation
import Imaging
import ModelTestSupport
import Tokenization
import Torch

@testable import BriVLTraining

/// Colour-square images whose class is their colour, a vocabulary covering their captions and class names, and a
/// very small model: enough to exercise evaluations end to end in seconds.
enum ClassificationFixtures {
    static let colours: [(chinese: String, english: String, pixel: [UInt8])] = [
        ("红色", "red", [220, 30, 30]), ("绿色", "green", [30, 200, 40]), ("蓝色", "blue", [30, 40, 220]),
        ("黄色", "yellow", [230, 220, 30]), ("紫色", "purple", [150, 40, 180]), ("白色", "white", [240, 240, 240]),
    ]

    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("brivl-eval-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A 16×16 PNG: a square of colour `label` on the left or right half of a dark canvas.
    static func png(label: Int, left: Bool) throws -> Data {
        var pixels = [UInt8](repeating: 20, count: 16 * 16 * 3)
        for y in 4..<12 {
            for x in (left ? 0 : 8)..<(left ? 8 : 16) {
                for c in 0..<3 { pixels[(y * 16 + x) * 3 + c] = colours[label].pixel[c] }
            }
        }
        return try ImageEncoder.png(try Image(width: 16, height: 16, pixels: pixels))
    }

    /// Shards of `count` squares with their Chinese and English captions and `label` metadata (the colour index).
    static func writeShards(to directory: String, count: Int) throws {
        let writer = try ShardWriter(.init(directory: directory, prefix: "pairs", samplesPerShard: 16))
        for index in 0..<count {
            let label = index % colours.count
            let left = index / colours.count % 2 == 0
            let side = left ? ("左边", "left") : ("右边", "right")
            let record = PairRecord(
                texts: ["\(side.0)有一个\(colours[label].chinese)方块", "a \(colours[label].english) square on the \(side.1)"],
                metadata: ["label": String(label)])
            try writer.write(
                Sample(
                    key: String(format: "%06d", index),
                    files: ["png": try png(label: label, left: left), "json": try record.encoded()]))
        }
        _ = try writer.finish()
    }

    /// A class file naming every colour in Chinese and English, labels "0"…"5".
    static func writeClassFile(to path: String) throws {
        let lines = colours.indices.map { "\($0)\t\(colours[$0].chinese)\t\(colours[$0].english)" }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func vocabulary() throws -> Vocabulary {
        var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tokens += ["a", "square", "on", "the", "left", "right", "photo", "of", "picture", "."] + colours.map(\.english)
        tokens += Set(colours.map(\.chinese).joined() + "左右边有一个方块张的照片图中是").map(String.init).sorted()
        return try Vocabulary(tokens: tokens)
    }

    static func tokenizer() throws -> BertTokenizer {
        try BertTokenizer(vocabulary: try vocabulary(), configuration: .chineseCLIP)
    }

    static func configuration(vocabularySize: Int) -> BriVLConfiguration {
        TinyModels.configuration(vocabularySize: vocabularySize)
    }

    static func model(seed: UInt64 = 3) throws -> (BriVLModel, BertTokenizer) {
        let tokenizer = try tokenizer()
        let model = try BriVLModel(
            configuration(vocabularySize: tokenizer.vocabulary.count), generator: try Generator(seed: seed))
        return (model, tokenizer)
    }
}
