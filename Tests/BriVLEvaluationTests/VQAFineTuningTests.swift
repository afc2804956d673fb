import BriVL
import BriVLData
import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVLEvaluation

@Suite("VQA fine-tuning: contrastive multiple choice on a tiny model", .serialized)
struct VQAFineTuningTests {
    @Test("fine-tuning raises accuracy on the training questions well above chance")
    func learnsTheTrainingQuestions() throws {
        let root = try VQAFixtures.temporaryDirectory("learn")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try VQAFixtures.generateSet(in: root, trainImages: 16, testImages: 4)
        let train = try VQADataset(contentsOf: files.train)
        let encoder = try VQAFixtures.encoder(seed: 1)
        let scorer = try MultipleChoiceScorer(encoder: encoder, batchSize: 64)
        let before = try scorer.evaluate(train).tally.accuracy

        let tuner = try VQAFineTuner(
            encoder: encoder,
            configuration: VQAFineTuningConfiguration(steps: 150, learningRate: 3e-3, weightDecay: 0, batchSize: 16, seed: 2))
        let losses = try tuner.train(on: train)
        let after = try scorer.evaluate(train).tally.accuracy

        #expect(losses.count == 150)
        let early = losses.prefix(10).reduce(0, +) / 10
        let late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < early * 0.5, "loss \(early) → \(late)")
        #expect(after >= train.chance + 0.4, "accuracy \(before) → \(after), chance \(train.chance)")
        #expect(after > before + 0.25)
    }

    @Test("frozen blocks and frozen batch-norm statistics stay exactly as they were; the rest trains")
    func freezingHolds() throws {
        let root = try VQAFixtures.temporaryDirectory("freeze")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let train = try VQADataset(contentsOf: VQAFixtures.generateSet(in: root, trainImages: 6, testImages: 1).train)

        let encoder = try VQAFixtures.encoder(seed: 4)
        let before = try VQAFixtures.snapshot(encoder.model)
        let tuner = try VQAFineTuner(
            encoder: encoder,
            configuration: VQAFineTuningConfiguration(
                steps: 4, learningRate: 1e-2, batchSize: 4, freezeBatchNorm: true, trainableImageBlocks: 1,
                trainableTextLayers: 0))
        try tuner.train(on: train)
        let changed = try VQAFixtures.changedKeys(encoder.model, since: before)

        let frozenPrefixes = [
            "image_tower.resnet.conv1.", "image_tower.resnet.bn1.", "image_tower.resnet.layer1.",
            "text_tower.bert.", "logit_scale",
        ]
        for key in before.keys where frozenPrefixes.contains(where: key.hasPrefix) {
            #expect(!changed.contains(key), "\(key) is frozen but changed")
        }
        for key in before.keys where key.contains("running_") || key.contains("num_batches_tracked") {
            #expect(!changed.contains(key), "\(key): batch norms are frozen, yet their statistics changed")
        }
        // The last stage, the pooling and both heads train.
        #expect(changed.contains("image_tower.resnet.layer2.0.conv1.weight"))
        #expect(changed.contains("image_tower.resnet.layer2.0.bn1.weight"), "frozen statistics, trained scale")
        #expect(changed.contains { $0.hasPrefix("image_tower.head.") })
        #expect(changed.contains { $0.hasPrefix("text_tower.head.") })
        #expect(!encoder.model.training, "fine-tuning leaves the model in evaluation mode")

        // Without frozen batch norms the trainable stage's statistics follow the batches (the check above can fail).
        let free = try VQAFixtures.encoder(seed: 4)
        let freeBefore = try VQAFixtures.snapshot(free.model)
        try VQAFineTuner(
            encoder: free,
            configuration: VQAFineTuningConfiguration(
                steps: 2, learningRate: 1e-2, batchSize: 4, freezeBatchNorm: false, trainableImageBlocks: 1)
        ).train(on: train)
        let freeChanged = try VQAFixtures.changedKeys(free.model, since: freeBefore)
        #expect(freeChanged.contains("image_tower.resnet.layer2.0.bn1.running_mean"))
        #expect(!freeChanged.contains("image_tower.resnet.layer1.0.bn1.running_mean"), "a frozen stage keeps its own")
        #expect(freeChanged.contains { $0.hasPrefix("text_tower.bert.") }, "all of BERT trains by default")
    }

    @Test("a ViT trains only its last blocks: the patch, class and position embeddings and earlier blocks freeze")
    func vitFreezing() throws {
        let encoder = try VQAFixtures.encoder(vit: true)
        _ = try VQAFineTuner(encoder: encoder, configuration: VQAFineTuningConfiguration(trainableImageBlocks: 1))
        let trainable = Set(encoder.model.namedParameters().filter(\.tensor.requiresGrad).map(\.key))
        let keys = encoder.model.namedParameters().map(\.key)
        for key in keys where key.hasPrefix("image_tower.vit.") {
            let inLastBlock = key.hasPrefix("image_tower.vit.transformer.layers.1.")
                || key.hasPrefix("image_tower.vit.transformer.final_norm.")
            #expect(trainable.contains(key) == inLastBlock, "\(key)")
        }
        #expect(keys.filter { $0.hasPrefix("image_tower.head.") }.allSatisfy(trainable.contains))
        #expect(!trainable.contains("logit_scale"))

        _ = try VQAFineTuner(encoder: encoder, configuration: VQAFineTuningConfiguration(trainableImageBlocks: 0))
        #expect(!encoder.model.namedParameters().contains { $0.key.hasPrefix("image_tower.vit.") && $0.tensor.requiresGrad })
        _ = try VQAFineTuner(encoder: encoder, configuration: VQAFineTuningConfiguration())
        let imageTower = encoder.model.namedParameters().filter { $0.key.hasPrefix("image_tower.") }
        #expect(imageTower.allSatisfy { $0.tensor.requiresGrad })
    }

    @Test("impossible freezing settings are refused")
    func refusesImpossibleSettings() throws {
        let encoder = try VQAFixtures.encoder()
        for configuration in [
            VQAFineTuningConfiguration(trainableImageBlocks: 3), VQAFineTuningConfiguration(trainableTextLayers: 2),
            VQAFineTuningConfiguration(steps: 0), VQAFineTuningConfiguration(trainableImageBlocks: -1),
        ] {
            #expect(throws: EvaluationError.self) { try VQAFineTuner(encoder: encoder, configuration: configuration) }
        }
    }

    @Test("the evaluation reports zero-shot and fine-tuned accuracy by question type")
    func report() throws {
        let root = try VQAFixtures.temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try VQAFixtures.generateSet(in: root, trainImages: 8, testImages: 6, questionsPerImage: 4)
        let test = try VQADataset(contentsOf: files.test)
        let evaluation = VQAEvaluation(encoder: try VQAFixtures.encoder(), batchSize: 7)
        var trainingSteps = 0
        var scored = 0
        let result = try evaluation.run(
            test: test, train: try VQADataset(contentsOf: files.train),
            fineTuning: VQAFineTuningConfiguration(steps: 3, batchSize: 4, freezeBatchNorm: false)
        ) { event in
            switch event {
            case .training: trainingSteps += 1
            case .scoring(_, let done, let total): if done == total { scored += 1 }
            }
        }
        #expect(trainingSteps == 3 && scored == 2)
        #expect(result.zeroShot.overall.total == test.count)
        #expect(result.fineTuned?.overall.total == test.count)

        let report = result.report(model: "tiny", dataset: "fashion-vqa")
        #expect(report.task == "vqa")
        #expect(report.metrics["accuracy"] == result.fineTuned?.accuracy)
        #expect(report.metrics["zero_shot_accuracy"] == result.zeroShot.accuracy)
        for type in ["what", "where", "how"] {
            #expect(report.metrics["accuracy_\(type)"] != nil)
        }
        #expect(report.metrics["accuracy_why"] == nil, "types without questions get no metric")
        #expect(report.settings["chance"] == "0.2500")
        #expect(report.settings["steps"] == "3")
        let table = try #require(report.tables.first)
        #expect(table.columns == ["type", "questions", "zero-shot", "fine-tuned"])
        #expect(table.rows.map(\.[0]) == ["what", "where", "how", "all"])
        let whatCount = test.questions.filter { $0.type == .what }.count
        #expect(table.rows[0][1] == String(whatCount))
        #expect(table.rows[3][2] == EvaluationReport.percent(result.zeroShot.accuracy))

        // Without training questions only the zero-shot score is measured, and it is the headline.
        let zeroShot = try evaluation.run(test: test).report(model: "tiny", dataset: "fashion-vqa")
        #expect(zeroShot.metrics["accuracy"] == zeroShot.metrics["zero_shot_accuracy"])
        #expect(zeroShot.settings["fine_tuned"] == "no")
        #expect(zeroShot.tables[0].rows.last?.last == "–")
    }
}
