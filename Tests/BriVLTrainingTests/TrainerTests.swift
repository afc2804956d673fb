import BriVL
import BriVLInference
import Foundation
import ModelTestSupport
import Testing
import Torch

@testable import BriVLTraining

@Suite("Training runs", .serialized)
struct TrainerTests {
    @Test("the training configuration round-trips as snake_case JSON and bad settings are refused")
    func configurationRoundTrip() throws {
        let root = try TrainingFixtures.temporaryDirectory("config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = try TrainingFixtures.configuration(root: root, steps: 5)
        let json = try configuration.encodedJSON()
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"train_shards\"") && text.contains("\"queue_size\"") && text.contains("\"checkpoint_every\""))
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: json) == configuration)
        var bad = configuration
        bad.objective.contrast = .momentum(MomentumContrastConfiguration(queueSize: 10))
        #expect(throws: TrainingError.self) { try bad.validate() }
        bad = configuration
        bad.data.cropScale = [0.9]
        #expect(throws: TrainingError.self) { try bad.validate() }
    }

    @Test("--hard-negatives: each step scores images against their captions' foils too; refused where unsupported")
    func hardNegatives() throws {
        let root = try TrainingFixtures.temporaryDirectory("foils")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = try TrainingFixtures.configuration(root: root, steps: 3, dropout: 0)
        let foiled = (root as NSString).appendingPathComponent("train-foils")
        try TrainingFixtures.writeShards(to: foiled, count: 64, seed: 0, hardNegatives: true)
        configuration.data.trainShards = foiled
        configuration.objective = .clip
        configuration.run.validateEvery = 0

        let plain = try Trainer(
            configuration: configuration, outputDirectory: (root as NSString).appendingPathComponent("plain"), resume: false)
        try plain.run()
        configuration.data.hardNegatives = true
        let trainer = try Trainer(
            configuration: configuration, outputDirectory: (root as NSString).appendingPathComponent("foils"), resume: false)
        var messages: [String] = []
        trainer.onMessage = { messages.append($0) }
        try trainer.run()
        // Same start, same batch: the first step's image→text loss grows by the foils, text→image does not change.
        let (first, plainFirst) = (trainer.metrics.steps[0], plain.metrics.steps[0])
        #expect(first.imageToTextLoss > plainFirst.imageToTextLoss + 1e-4)
        #expect(abs(first.textToImageLoss - plainFirst.textToImageLoss) < 1e-5)
        #expect(trainer.metrics.steps.allSatisfy { $0.loss.isFinite })
        #expect(messages.contains { $0.hasPrefix("hard negatives: 12 used with 12 samples") }, "\(messages)")
        let saved = try TrainingConfiguration.read(from: trainer.configurationPath)
        #expect(saved.data.hardNegatives)

        // Shards without foils: said plainly at the end.
        configuration.data.trainShards = (root as NSString).appendingPathComponent("train")
        let bare = try Trainer(
            configuration: configuration, outputDirectory: (root as NSString).appendingPathComponent("bare"), resume: false)
        messages = []
        bare.onMessage = { messages.append($0) }
        try bare.run()
        #expect(messages.contains { $0.contains("have no hard_negatives") }, "\(messages)")

        var moco = configuration
        moco.objective = ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration(queueSize: 16)))
        #expect(throws: TrainingError.self) { try moco.validate() }
        var chunked = configuration
        chunked.objective.gradientCacheChunk = 2
        #expect(throws: TrainingError.self) { try chunked.validate() }
    }

    @Test("a training.json written before hard negatives existed reads with them off")
    func configurationWithoutHardNegatives() throws {
        let root = try TrainingFixtures.temporaryDirectory("old-config")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = try TrainingFixtures.configuration(root: root, steps: 2)
        var object = try #require(try JSONSerialization.jsonObject(with: configuration.encodedJSON()) as? [String: Any])
        var data = try #require(object["data"] as? [String: Any])
        #expect(data.removeValue(forKey: "hard_negatives") != nil)
        object["data"] = data
        let old = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old == configuration && !old.data.hardNegatives)
    }

    @Test("a run logs every step, validates, plots, checkpoints, and refuses to overwrite itself")
    func runWritesItsFolder() throws {
        let root = try TrainingFixtures.temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = (root as NSString).appendingPathComponent("run")
        let trainer = try Trainer(
            configuration: try TrainingFixtures.configuration(root: root, steps: 6), outputDirectory: output, resume: false)
        let final = try #require(try trainer.run())
        #expect(trainer.step == 6)
        #expect(final.step == 6 && final.pairs == 12)
        let steps = trainer.metrics.steps
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(steps.allSatisfy { $0.loss.isFinite && $0.maskedLanguageModelLoss != nil && $0.gradientNorm > 0 })
        #expect(steps[0].distillation == 0 && steps[5].distillation == 0.4)
        #expect(trainer.metrics.validations.map(\.step) == [3, 6])
        let svg = try String(contentsOfFile: (output as NSString).appendingPathComponent("curves.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        let checkpoints = try CheckpointDirectory(root: (output as NSString).appendingPathComponent("checkpoints"))
        let latest = try #require(try checkpoints.latest())
        #expect(latest.step == 6)
        #expect(Set(latest.tensorGroups) == ["model", "mlm_head", "momentum", "queues", "optimizer", "random"])
        #expect(try checkpoints.checkpoints().map(\.step) == [4, 6])
        let saved: BriVLConfiguration = try latest.document("model")
        let vocabulary = try String(contentsOfFile: (root as NSString).appendingPathComponent("vocab.txt"), encoding: .utf8)
        #expect(saved.text.vocabularySize == vocabulary.split(separator: "\n").count)
        #expect(throws: TrainingError.self) {
            try Trainer(configuration: trainer.configuration, outputDirectory: output, resume: false)
        }
    }

    @Test("stopping and resuming in process gives exactly the losses of an uninterrupted run")
    func resumeInProcess() throws {
        let root = try TrainingFixtures.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Dropout on: its masks come from the run's own generator, saved in the checkpoint, so other suites
        // drawing from the global generator in this process cannot disturb them.
        let configuration = try TrainingFixtures.configuration(root: root, steps: 8, dropout: 0.1)
        let straight = (root as NSString).appendingPathComponent("straight")
        try Trainer(configuration: configuration, outputDirectory: straight, resume: false).run()

        let interrupted = (root as NSString).appendingPathComponent("interrupted")
        // Three steps, then the trainer is dropped without a final checkpoint: the run resumes from step 2.
        try Trainer(configuration: configuration, outputDirectory: interrupted, resume: false).run(stopAfter: 3)
        let resumed = try Trainer(configuration: configuration, outputDirectory: interrupted, resume: true)
        #expect(resumed.step == 2)
        try resumed.run()

        let expected = try TrainingFixtures.losses(in: straight)
        let actual = try TrainingFixtures.losses(in: interrupted)
        #expect(expected.count == 8)
        #expect(actual == expected)
    }

    @Test("a damaged latest checkpoint is passed over, named, and the run resumes from the intact one before it")
    func damagedLatestCheckpoint() throws {
        let root = try TrainingFixtures.temporaryDirectory("damaged")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = (root as NSString).appendingPathComponent("run")
        let configuration = try TrainingFixtures.configuration(root: root, steps: 6)
        try Trainer(configuration: configuration, outputDirectory: output, resume: false).run()
        let model = (output as NSString).appendingPathComponent("checkpoints/step-00000006/model.safetensors")
        let handle = try #require(FileHandle(forUpdatingAtPath: model))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 5)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: size - 5)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()

        let source = try RunCheckpoint(path: output)
        #expect(source.checkpoint.step == 4)
        #expect(source.damagedCheckpoints.map(\.step) == [6])
        #expect(source.damagedCheckpoints.first?.reason.contains("model.safetensors") == true)
        let resumed = try Trainer(configuration: configuration, outputDirectory: output, resume: true)
        #expect(resumed.step == 4)
        #expect(resumed.damagedCheckpoints.map(\.step) == [6])
        // Without --resume a folder with only damaged checkpoints is still not a fresh folder.
        #expect(throws: TrainingError.self) { try Trainer(configuration: configuration, outputDirectory: output, resume: false) }
    }

    @Test("a fresh run folder holding another vocab.txt is refused instead of silently training with it")
    func conflictingVocabulary() throws {
        let root = try TrainingFixtures.temporaryDirectory("vocabulary")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = try TrainingFixtures.configuration(root: root, steps: 1)
        let output = (root as NSString).appendingPathComponent("run")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let copy = (output as NSString).appendingPathComponent("vocab.txt")
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n".write(toFile: copy, atomically: true, encoding: .utf8)
        do {
            _ = try Trainer(configuration: configuration, outputDirectory: output, resume: false)
            Issue.record("a conflicting vocab.txt was accepted")
        } catch let error as TrainingError {
            #expect("\(error)".contains("differs from --vocabulary"), "\(error)")
        }
        // The same vocabulary already copied there is fine.
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: configuration.data.vocabulary, toPath: copy)
        _ = try Trainer(configuration: configuration, outputDirectory: output, resume: false)
    }

    @Test("--init-from starts a new run from another run's weights, momentum towers included; resume ignores it")
    func warmStart() throws {
        let root = try TrainingFixtures.temporaryDirectory("warm")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = (root as NSString).appendingPathComponent("first")
        var configuration = try TrainingFixtures.configuration(root: root, steps: 3)
        try Trainer(configuration: configuration, outputDirectory: first, resume: false).run()
        let trained = try RunCheckpoint(path: first).weights()
        try Data(#"{"resize": "square", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}"#.utf8).write(
            to: URL(fileURLWithPath: (first as NSString).appendingPathComponent(ImagePreprocessing.fileName)))

        configuration.run.initFrom = first
        configuration.run.seed = 99
        let second = (root as NSString).appendingPathComponent("second")
        let warm = try Trainer(configuration: configuration, outputDirectory: second, resume: false)
        for (key, tensor) in warm.model.stateDict() {
            #expect(try tensor.equals(trained[key]!), "\(key) is not the first run's")
        }
        let momentum = try #require(warm.objective.momentumContrast, "the fixture's recipe has momentum towers")
        let towers = Dictionary(uniqueKeysWithValues: momentum.towers.stateDict())
        for (key, tensor) in towers {
            #expect(try tensor.equals(trained[key]!), "momentum \(key) is not the first run's")
        }
        #expect(FileManager.default.fileExists(atPath: (second as NSString).appendingPathComponent(ImagePreprocessing.fileName)))

        // A cold start from the same seed differs: the weights above came from the first run, not the seed.
        configuration.run.initFrom = nil
        let cold = try Trainer(
            configuration: configuration, outputDirectory: (root as NSString).appendingPathComponent("cold"), resume: false)
        let differs = try cold.model.stateDict().contains { !(try $0.tensor.equals(trained[$0.key]!)) }
        #expect(differs)

        // Resuming the warm run continues from its own checkpoint even when the source is gone.
        try warm.run(stopAfter: 2)
        try FileManager.default.removeItem(atPath: first)
        configuration.run.initFrom = first
        let resumed = try Trainer(configuration: configuration, outputDirectory: second, resume: true)
        #expect(resumed.step > 0)

        // Weights of another shape are refused, naming --init-from.
        var other = configuration
        other.run.initFrom = second
        other.model = TinyModels.configuration(vocabularySize: 0, width: 16)
        do {
            _ = try Trainer(configuration: other, outputDirectory: (root as NSString).appendingPathComponent("other"), resume: false)
            Issue.record("weights of another shape were loaded")
        } catch let error as TrainingError {
            #expect("\(error)".contains("--init-from"), "\(error)")
        }
    }

    @Test("a causal (OpenCLIP) text tower is refused before anything is written: training reads WordPiece only")
    func causalTextTowerRefused() throws {
        let root = try TrainingFixtures.temporaryDirectory("causal")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = try TrainingFixtures.configuration(root: root, steps: 1)
        let width = configuration.model.text.hiddenSize
        configuration.model.text = TextTowerConfiguration(
            encoder: .causal(CausalTextConfiguration(vocabularySize: 100, positions: 16, width: width, layerCount: 1, headCount: 1)),
            head: .endToken(inputSize: width, outputSize: configuration.model.embeddingSize), maxLength: 16)
        let output = (root as NSString).appendingPathComponent("run")
        do {
            _ = try Trainer(configuration: configuration, outputDirectory: output, resume: false)
            Issue.record("a causal text tower was trained with WordPiece ids")
        } catch let error as TrainingError {
            #expect("\(error)".contains("causal"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
