import BriVL
import BriVLData
import BriVLTraining
import Foundation
import Imaging
import ModelTestSupport

/// A real, tiny trained run folder (one training step on colour pictures), for tests that run the `brivl`
/// executable, which loads models from disk.
enum TinyCheckpoint {
    /// Trains one step into `root/run` and returns that run folder.
    static func make(in root: String) throws -> String {
        let shards = (root as NSString).appendingPathComponent("shards")
        let writer = try ShardWriter(.init(directory: shards, prefix: "pairs", samplesPerShard: 16))
        for index in 0..<8 {
            let colour = ColourEmbedder.colours[index % ColourEmbedder.colours.count]
            let record = PairRecord(texts: ["一个\(colour.chinese)方块", "a \(colour.english) square"], metadata: [:])
            try writer.write(
                Sample(
                    key: String(format: "%06d", index),
                    files: ["png": try SearchFixtures.png(colour: index % 6), "json": try record.encoded()]))
        }
        _ = try writer.finish()
        var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "square"] + ColourEmbedder.colours.map(\.english)
        tokens += Set(ColourEmbedder.colours.map(\.chinese).joined() + "一个方块").map(String.init).sorted()
        let vocabulary = (root as NSString).appendingPathComponent("vocab.txt")
        try tokens.joined(separator: "\n").write(toFile: vocabulary, atomically: true, encoding: .utf8)

        var configuration = TrainingConfiguration(
            model: TinyModels.configuration(vocabularySize: 0),
            data: .init(trainShards: shards, vocabulary: vocabulary, batchSize: 4, shuffleBufferSize: 8))
        configuration.objective = .clip
        configuration.run.steps = 1
        configuration.run.validateEvery = 0
        configuration.run.checkpointEvery = 1
        let run = (root as NSString).appendingPathComponent("run")
        try Trainer(configuration: configuration, outputDirectory: run, resume: false).run()
        return run
    }
}
