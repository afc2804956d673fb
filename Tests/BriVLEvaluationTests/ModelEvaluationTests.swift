import BriVL
import BriVLData
import BriVLInference
import Foundation
import Testing
import Torch

@testable import BriVLEvaluation
@testable import BriVLTraining

@Suite("Evaluations through a model", .serialized)
struct ModelEvaluationTests {
    /// 48 squares of 6 colours, the colour classes, and an untrained model.
    private func fixture() throws -> (root: String, images: LabelledImageSet, classes: ClassPrompts, embedder: TowerEmbedder) {
        let root = try ClassificationFixtures.temporaryDirectory("model")
        try ClassificationFixtures.writeShards(to: "\(root)/shards", count: 48)
        try ClassificationFixtures.writeClassFile(to: "\(root)/classes.txt")
        let templates = try PromptTemplates(chinese: ["一张{}的照片"], english: ["a photo of {}"])
        let classes = try ClassPrompts.read(classFile: "\(root)/classes.txt", templates: templates)
        let images = try LabelledImageSet.load(path: "\(root)/shards", classes: classes, imageSize: 16)
        let (model, tokenizer) = try ClassificationFixtures.model()
        return (root, images, classes, TowerEmbedder(model: model, tokenizer: tokenizer, batchSize: 5))
    }

    @Test("batches do not change embeddings; no graph is built; the model's mode is restored")
    func batchingIsInvisible() throws {
        let (root, images, classes, embedder) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        embedder.model.train()
        var whole = embedder
        whole.batchSize = 1000
        let small = try embedder.embedImages(images.images)
        #expect(embedder.model.training)
        #expect(!small.requiresGrad)
        #expect(try (small - whole.embedImages(images.images)).abs().max().item() < 1e-5)
        let texts = classes.prompts.flatMap { $0 }
        #expect(try (embedder.embedTexts(texts) - whole.embedTexts(texts)).abs().max().item() < 1e-5)
        // A class embedding is the normalised mean of its prompts' embeddings.
        let perClass = try embedder.embedClasses(prompts: classes.prompts)
        let first = try Functional.normalize(embedder.embedTexts(classes.prompts[0]).mean(dimension: 0), dimension: 0)
        #expect(try (perClass.narrowed(dimension: 0, start: 0, length: 1).squeezed(0) - first).abs().max().item() < 1e-5)
    }

    @Test("zero-shot predictions are the most similar class, and the metrics count them")
    func zeroShotAgreesWithItsScores() throws {
        let (root, images, classes, embedder) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let result = try ZeroShotImageClassification(embedder: embedder).evaluate(images: images, classes: classes)
        #expect(result.scores.shape == [48, 6])
        let predictions = try result.scores.argmax(dimension: 1).toArray(Int64.self).map(Int.init)
        let correct = zip(predictions, images.labels).filter { $0 == $1 }.count
        #expect(abs(result.metrics.top1 - Double(correct) / 48) < 1e-12)
        #expect(result.metrics.confusion.flatMap { $0 }.reduce(0, +) == 48)
        let report = result.report(model: "m", dataset: "d", settings: [:], confusionPicture: "c.svg")
        #expect(report.metrics["top1"] == result.metrics.top1 && report.tables[1].rows.count == 6)
    }

    @Test("adapting the head on seen classes learns them, and the evaluation leaves the model as it was")
    func seenClassAdaptation() throws {
        let (root, images, classes, embedder) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let before = try embedder.model.stateDict().map { ($0.key, try $0.tensor.clone()) }
        var adaptation = SeenUnseenEvaluation.Adaptation()
        adaptation.steps = 80
        adaptation.learningRate = 1e-2
        adaptation.batchSize = 32
        let evaluation = SeenUnseenEvaluation(embedder: embedder, adaptation: adaptation)
        let features = try embedder.imageFeatures(images.images)
        let classEmbeddings = try embedder.embedClasses(prompts: classes.prompts)
        let seen = [0, 1, 2, 3]
        let start = try evaluation.accuracy(
            features: features, labels: images.labels, classEmbeddings: classEmbeddings, on: seen)
        let losses = try evaluation.adapt(features: features, labels: images.labels, classEmbeddings: classEmbeddings, seen: seen)
        let end = try evaluation.accuracy(features: features, labels: images.labels, classEmbeddings: classEmbeddings, on: seen)
        #expect(end >= 0.9, "seen-class accuracy after adaptation \(end)")
        #expect(end >= start + 0.3, "from \(start) to \(end)")
        // The untrained text tower's class embeddings lie close together, which bounds the logits' spread and so
        // how low the loss can go; accuracy is the real test, the loss only has to fall clearly.
        let early = losses.prefix(10).reduce(0, +) / 10
        let late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < early - 0.1, "loss from \(early) to \(late)")

        // The full protocol restores the head after every split and at the end.
        let (root2, images2, classes2, embedder2) = try fixture()
        defer { try? FileManager.default.removeItem(atPath: root2) }
        let pristine = try embedder2.model.stateDict().map { ($0.key, try $0.tensor.clone()) }
        var quick = adaptation
        quick.steps = 5
        let results = try SeenUnseenEvaluation(embedder: embedder2, adaptation: quick).evaluate(
            images: images2, classes: classes2, ratios: [.init(unseen: 6, seen: 0), .init(unseen: 2, seen: 4)],
            splitsPerRatio: 3)
        #expect(results.map(\.splits.count) == [1, 3])
        #expect(results[0].splits[0].adaptedAccuracy == results[0].splits[0].zeroShotAccuracy)
        for (key, tensor) in embedder2.model.stateDict() {
            let original = pristine.first { $0.0 == key }!.1
            #expect(try tensor.equals(original), "\(key) changed")
        }
        // The first model changed only in its image head.
        for (key, tensor) in embedder.model.stateDict() {
            let original = before.first { $0.0 == key }!.1
            if !key.hasPrefix("image_tower.head.") { #expect(try tensor.equals(original), "\(key) changed") }
        }
    }

    @Test("a linear probe separates separable features; few-shot draws take k per class, reproducibly")
    func linearProbe() throws {
        let generator = try Generator(seed: 11)
        let centres = try Tensor.randn([4, 6], generator: generator) * 3
        let labels = (0..<80).map { $0 % 4 }
        let index = try Tensor(labels.map(Int64.init), shape: [80])
        let features = try centres.indexSelect(dimension: 0, index: index) + Tensor.randn([80, 6], generator: generator) * 0.3
        let (classifier, first, last) = try LinearProbe().train(features: features, labels: labels, classes: 4)
        #expect(last < first * 0.2)
        let metrics = try ClassificationMetrics.measure(scores: classifier.scores(features), labels: labels, ks: [1])
        #expect(metrics.top1 >= 0.95)

        let draw = LinearProbe.fewShotIndices(labels: labels, classes: 4, shots: 5, seed: 3)
        #expect(draw.count == 20)
        #expect((0..<4).allSatisfy { label in draw.filter { labels[$0] == label }.count == 5 })
        #expect(LinearProbe.fewShotIndices(labels: labels, classes: 4, shots: 5, seed: 3) == draw)
        #expect(LinearProbe.fewShotIndices(labels: labels, classes: 4, shots: 5, seed: 4) != draw)
        let split = LinearProbe.stratifiedSplit(labels: labels, classes: 4, testFraction: 0.25, seed: 0)
        #expect(Set(split.train).isDisjoint(with: split.test) && split.train.count + split.test.count == 80)
        #expect((0..<4).allSatisfy { label in split.test.filter { labels[$0] == label }.count == 5 })

        let results = try LinearProbeEvaluation(probe: LinearProbe()).evaluate(
            train: (features, labels), test: (features, labels), classes: 4, shots: [1, nil], trials: 3)
        #expect(results.map(\.accuracies.count) == [3, 1])
        #expect(results.map(\.trainingImages) == [4, 80])
    }

    @Test("the text baseline's initial weights are the weights the trainer started from")
    func initialWeightsBaseline() throws {
        let root = try ClassificationFixtures.temporaryDirectory("baseline")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ClassificationFixtures.writeShards(to: "\(root)/train", count: 32)
        let vocabulary = "\(root)/vocab.txt"
        try ClassificationFixtures.vocabulary().tokens.joined(separator: "\n").write(toFile: vocabulary, atomically: true, encoding: .utf8)
        var configuration = TrainingConfiguration(
            model: ClassificationFixtures.configuration(vocabularySize: 0),
            data: .init(trainShards: "\(root)/train", vocabulary: vocabulary, batchSize: 4, shuffleBufferSize: 8))
        configuration.objective = .clip
        configuration.run.steps = 2
        configuration.run.seed = 9
        configuration.run.validateEvery = 0
        configuration.run.checkpointEvery = 2
        let untrained = try Trainer(configuration: configuration, outputDirectory: "\(root)/fresh", resume: false)
        let initial = Dictionary(uniqueKeysWithValues: try untrained.model.stateDict().map { ($0.key, try $0.tensor.clone()) })
        let trainer = try Trainer(configuration: configuration, outputDirectory: "\(root)/run", resume: false)
        try trainer.run()
        let trained = try TrainedModel(path: "\(root)/run")
        let (baseline, seed) = try BaselineModel.initialWeights(of: trained)
        #expect(seed == 9)
        var differsFromTrained = false
        for (key, tensor) in baseline.stateDict() {
            #expect(try tensor.equals(initial[key]!), "\(key)")
            if try !tensor.equals(trained.model.stateDict().first { $0.key == key }!.tensor) { differsFromTrained = true }
        }
        #expect(differsFromTrained)
    }
}
