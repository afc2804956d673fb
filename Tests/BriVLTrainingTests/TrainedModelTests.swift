import BriVLData
import BriVLEvaluation
import BriVLInference
import Foundation
import Testing
import Torch

@testable import BriVLTraining

@Suite("Trained models and the relevance scorer", .serialized)
struct TrainedModelTests {
    @Test("a run folder loads back with its weights; the scorer gives each pair its image–caption cosine")
    func loadAndScore() throws {
        let root = try TrainingFixtures.temporaryDirectory("trained")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = (root as NSString).appendingPathComponent("run")
        let trainer = try Trainer(
            configuration: try TrainingFixtures.configuration(root: root, steps: 2), outputDirectory: output, resume: false)
        try trainer.run()

        let loaded = try TrainedModel(path: output)
        #expect(loaded.checkpoint?.step == 2)
        let original = Dictionary(uniqueKeysWithValues: trainer.model.stateDict())
        for (key, tensor) in loaded.model.stateDict() { #expect(try tensor.equals(original[key]!), "\(key)") }
        let viaFolder = try TrainedModel(path: try #require(loaded.checkpoint).path)
        #expect(viaFolder.checkpoint == loaded.checkpoint)

        // Two pairs from the validation shards, scored together and one by one.
        let shard = try #require(try LoaderConfiguration.discoverShards(in: (root as NSString).appendingPathComponent("validation")).first)
        let samples = Array(try ShardReader(path: shard).prefix(2))
        let pairs = try samples.map { sample -> (image: Data, text: String) in
            let record = try JSONDecoder().decode(PairRecord.self, from: try #require(sample.files["json"]))
            return (try #require(sample.image?.data), record.texts[0])
        }
        let scorer = ModelRelevanceScorer(loaded)
        let together = try scorer.scores(pairs)
        #expect(together.count == 2)
        for (index, pair) in pairs.enumerated() {
            let single = try scorer.score(image: pair.image, text: pair.text)
            #expect(abs(single - together[index]) < 1e-5)
            let image = try loaded.embedImages([pair.image])
            let text = try loaded.embedTexts([pair.text])
            #expect(abs(try (image * text).sum().item() - Double(single)) < 1e-5)
            #expect((-1.0001...1.0001).contains(single))
        }
        #expect(throws: InferenceError.self) { try TrainedModel(path: root) }
    }
}
