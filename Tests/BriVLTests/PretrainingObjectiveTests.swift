import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("Pretraining objective")
struct PretrainingObjectiveTests {
    /// A float64 model and objective built from fixed seeds, so two calls give identical starting points.
    private func make(
        _ configuration: BriVLConfiguration, objective: ObjectiveConfiguration, batch: Int
    ) throws -> PretrainingObjective {
        let model = try BriVLModel(configuration, generator: Generator(seed: 11))
        try model.to(dtype: .float64)
        return try PretrainingObjective(
            model: model, configuration: objective, batchSize: batch, masking: ModelFixtures.masking,
            generator: Generator(seed: 12))
    }

    private func gradients(of objective: PretrainingObjective) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (index, module) in objective.trainedModules.enumerated() {
            for (key, parameter) in module.namedParameters() {
                if let gradient = parameter.grad { result["\(index).\(key)"] = gradient }
            }
        }
        return result
    }

    private func maximumDifference(_ a: [String: Tensor], _ b: [String: Tensor]) throws -> Double {
        #expect(Set(a.keys) == Set(b.keys))
        var worst = 0.0
        for (key, tensor) in a {
            guard let other = b[key] else { continue }
            worst = Swift.max(worst, try (tensor - other).abs().max().item())
        }
        return worst
    }

    @Test("hard negatives: the objective's loss and gradients equal the loss computed from separately encoded foils")
    func hardNegativesThroughTheObjective() throws {
        let batch = try ModelFixtures.batch(5, seed: 21, dtype: .float64)
        let foils = try ModelFixtures.batch(3, seed: 22, dtype: .float64)
        let hardNegatives = HardNegativeCaptions(tokenIDs: foils.tokenIDs, attentionMask: foils.attentionMask)
        let objective = try make(ModelFixtures.vit, objective: .clip, batch: 5)
        let metrics = try objective.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask,
            hardNegatives: hardNegatives, step: 0, seed: 1)
        let viaObjective = gradients(of: objective)

        let direct = try make(ModelFixtures.vit, objective: .clip, batch: 5)
        let model = direct.model
        let output = try InBatchContrastiveLoss(maximumScale: model.configuration.maximumLogitScale)(
            image: model.encodeImage(batch.images),
            text: model.encodeText(tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask),
            logScale: model.logitScale,
            hardNegatives: model.encodeText(tokenIDs: foils.tokenIDs, attentionMask: foils.attentionMask))
        try output.loss.backward()
        #expect(abs(metrics.loss - (try output.loss.item())) < 1e-10)
        #expect(try maximumDifference(viaObjective, gradients(of: direct)) < 1e-10)

        // The foils matter: without them the loss is lower for these embeddings.
        let plain = try make(ModelFixtures.vit, objective: .clip, batch: 5)
        let plainMetrics = try plain.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 1)
        #expect(plainMetrics.imageToText < metrics.imageToText)
        #expect(abs(plainMetrics.textToImage - metrics.textToImage) < 1e-10)
    }

    @Test("hard negatives are refused with MoCo, with gradient-cache chunks, and at the wrong length")
    func hardNegativesRefused() throws {
        let batch = try ModelFixtures.batch(4, seed: 23, dtype: .float64)
        let foils = try ModelFixtures.batch(2, seed: 24, dtype: .float64)
        let hardNegatives = HardNegativeCaptions(tokenIDs: foils.tokenIDs, attentionMask: foils.attentionMask)
        let moco = try make(
            ModelFixtures.vit, objective: ObjectiveConfiguration(contrast: .momentum(.init(queueSize: 8))), batch: 4)
        #expect(throws: ModelError.self) {
            try moco.accumulateGradients(
                images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask,
                hardNegatives: hardNegatives, step: 0, seed: 1)
        }
        let chunked = try make(ModelFixtures.vit, objective: ObjectiveConfiguration(contrast: .inBatch, gradientCacheChunk: 2), batch: 4)
        #expect(throws: ModelError.self) {
            try chunked.accumulateGradients(
                images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask,
                hardNegatives: hardNegatives, step: 0, seed: 1)
        }
        let short = HardNegativeCaptions(
            tokenIDs: try foils.tokenIDs.narrowed(dimension: 1, start: 0, length: 3),
            attentionMask: try foils.attentionMask.narrowed(dimension: 1, start: 0, length: 3))
        let plain = try make(ModelFixtures.vit, objective: .clip, batch: 4)
        #expect(throws: ModelError.self) {
            try plain.accumulateGradients(
                images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask,
                hardNegatives: short, step: 0, seed: 1)
        }
    }

    @Test(
        "gradient cache: chunked gradients equal the whole batch's, for every recipe",
        arguments: [
            ObjectiveConfiguration(contrast: .inBatch),
            ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration(queueSize: 12))),
            ObjectiveConfiguration(
                contrast: .momentum(
                    MomentumContrastConfiguration(learnableTemperature: false, queueSize: 12, distillation: 0.4)),
                maskedLanguageModelWeight: 0.5, maskingProbability: 0.3),
        ])
    func gradientCacheEquivalence(objective: ObjectiveConfiguration) throws {
        let batch = try ModelFixtures.batch(6, seed: 13, dtype: .float64)
        let plain = try make(ModelFixtures.vit, objective: objective, batch: 6)
        let plainMetrics = try plain.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 3, seed: 14)

        var chunkedObjective = objective
        chunkedObjective.gradientCacheChunk = 4  // chunks of 4 and 2: uneven on purpose
        let cached = try make(ModelFixtures.vit, objective: chunkedObjective, batch: 6)
        let cachedMetrics = try cached.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 3, seed: 14)

        let plainGradients = gradients(of: plain)
        #expect(plainGradients.count > 20)
        #expect(try maximumDifference(plainGradients, gradients(of: cached)) < 1e-10)
        #expect(abs(plainMetrics.loss - cachedMetrics.loss) < 1e-10)
        if objective.maskedLanguageModelWeight > 0 {
            let mlm = try #require(plainMetrics.maskedLanguageModel)
            #expect(abs(mlm - (cachedMetrics.maskedLanguageModel ?? .nan)) < 1e-10)
        }
    }

    @Test("gradient cache with dropout: each chunk is re-encoded with the random state of its first encoding")
    func gradientCacheReplaysDropout() throws {
        var configuration = ModelFixtures.vit
        configuration.text = ModelFixtures.text(dropout: 0.3)
        let batch = try ModelFixtures.batch(6, seed: 21, dtype: .float64)
        let chunks = GradientCache.chunks(of: 6, size: 4)

        // Other suites may draw from the global generator at the same time, between the seeding and the draws, so
        // the comparison gets a few attempts; a cache that does not replay the masks fails every one of them.
        var worst = Double.infinity
        for attempt in 0..<5 where worst >= 1e-10 {
            // Reference: the chunks encoded once, with a graph, in the order the cache's first pass draws masks.
            let reference = try make(configuration, objective: ObjectiveConfiguration(contrast: .inBatch), batch: 6)
            Engine.seed(22 + UInt64(attempt))
            let images = try Tensor.cat(chunks.map { try reference.model.encodeImage(batch.images.rows($0)) })
            let texts = try Tensor.cat(
                chunks.map {
                    try reference.model.encodeText(
                        tokenIDs: batch.tokenIDs.rows($0), attentionMask: batch.attentionMask.rows($0))
                })
            try InBatchContrastiveLoss()(image: images, text: texts, logScale: reference.model.logitScale).loss
                .backward()

            var chunked = ObjectiveConfiguration(contrast: .inBatch)
            chunked.gradientCacheChunk = 4
            let cached = try make(configuration, objective: chunked, batch: 6)
            Engine.seed(22 + UInt64(attempt))
            _ = try cached.accumulateGradients(
                images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 1)
            worst = try maximumDifference(gradients(of: reference), gradients(of: cached))
        }
        #expect(worst < 1e-10)
    }

    @Test("gradient cache with dropout drawn from the model's own generator: exact replay, global generator untouched")
    func gradientCacheReplaysGeneratorDropout() throws {
        var configuration = ModelFixtures.vit
        configuration.text = ModelFixtures.text(dropout: 0.3)  // hidden and attention-weight dropout
        let batch = try ModelFixtures.batch(6, seed: 21, dtype: .float64)
        let chunks = GradientCache.chunks(of: 6, size: 4)

        // Reference: the chunks encoded once, with a graph, in the order the cache's first pass draws masks.
        let reference = try make(configuration, objective: ObjectiveConfiguration(contrast: .inBatch), batch: 6)
        reference.drawDropout(from: try Generator(seed: 22))
        let images = try Tensor.cat(chunks.map { try reference.model.encodeImage(batch.images.rows($0)) })
        let texts = try Tensor.cat(
            chunks.map {
                try reference.model.encodeText(
                    tokenIDs: batch.tokenIDs.rows($0), attentionMask: batch.attentionMask.rows($0))
            })
        try InBatchContrastiveLoss()(image: images, text: texts, logScale: reference.model.logitScale).loss.backward()

        var chunked = ObjectiveConfiguration(contrast: .inBatch)
        chunked.gradientCacheChunk = 4
        let cached = try make(configuration, objective: chunked, batch: 6)
        cached.drawDropout(from: try Generator(seed: 22))
        _ = try cached.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 1)
        // No retries needed: nothing else in the process draws from these generators.
        #expect(try maximumDifference(gradients(of: reference), gradients(of: cached)) < 1e-10)

        // The masks really differ with the seed (the check above is not vacuous).
        let other = try make(configuration, objective: chunked, batch: 6)
        other.drawDropout(from: try Generator(seed: 23))
        _ = try other.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 1)
        #expect(try maximumDifference(gradients(of: cached), gradients(of: other)) > 1e-6)
    }

    @Test("gradient cache with batch norm: running statistics advance once per chunk, not twice")
    func gradientCacheBatchNormBuffers() throws {
        var objective = ObjectiveConfiguration(contrast: .inBatch)
        objective.gradientCacheChunk = 2
        let cached = try make(ModelFixtures.cnn, objective: objective, batch: 6)
        let batch = try ModelFixtures.batch(6, seed: 15, dtype: .float64)
        _ = try cached.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 1)
        let counters = cached.model.namedBuffers().filter { $0.key.hasSuffix("num_batches_tracked") }
        #expect(!counters.isEmpty)
        for (key, counter) in counters { #expect(try counter.itemInt() == 3, "\(key)") }
    }

    @Test("MoCo: momentum towers follow the model by EMA; each step enqueues that step's momentum keys")
    func momentumQueueMechanics() throws {
        let objective = try make(
            ModelFixtures.vit,
            objective: ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration(momentum: 0.9, queueSize: 8))),
            batch: 4)
        let momentum = try #require(objective.momentumContrast)
        let towers = momentum.towers
        let model = objective.model
        let key = "head.projection.layers.0.weight"
        let weight = try #require(model.imageTower.namedParameters().first { $0.key == key }?.tensor)
        let before = try weight.clone()
        try withNoGrad { try weight.addInPlace(1) }

        let batch = try ModelFixtures.batch(4, seed: 16, dtype: .float64)
        let queueBefore = try momentum.imageQueue.keys.clone()
        _ = try objective.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, step: 0, seed: 2)

        // EMA: t = 0.9·t_old + 0.1·s with t_old = the weight before the change and s = the changed weight.
        let momentumWeight = try #require(towers.imageTower.namedParameters().first { $0.key == key }?.tensor)
        let expected = try before * 0.9 + (before + 1) * 0.1
        #expect(try (momentumWeight - expected).abs().max().item() < 1e-12)
        #expect(!(momentumWeight.requiresGrad))

        // The first 4 rows now hold this batch's keys, from the updated momentum towers; the rest is untouched.
        #expect(momentum.imageQueue.position == 4 && momentum.textQueue.position == 4)
        let keys = try towers.keys(images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask)
        let written = try momentum.imageQueue.keys.narrowed(dimension: 0, start: 0, length: 4)
        #expect(try (written - keys.image).abs().max().item() < 1e-12)
        let untouched = try momentum.imageQueue.keys.narrowed(dimension: 0, start: 4, length: 4)
        #expect(try untouched.equals(queueBefore.narrowed(dimension: 0, start: 4, length: 4)))
        let textWritten = try momentum.textQueue.keys.narrowed(dimension: 0, start: 0, length: 4)
        #expect(try (textWritten - keys.text).abs().max().item() < 1e-12)

        // Two more steps wrap the queue around to position 4 again.
        for seed in [17, 18] as [UInt64] {
            let next = try ModelFixtures.batch(4, seed: seed, dtype: .float64)
            _ = try objective.accumulateGradients(
                images: next.images, tokenIDs: next.tokenIDs, attentionMask: next.attentionMask, step: 1, seed: seed)
        }
        #expect(momentum.imageQueue.position == 4)
    }

    @Test("a queue size that the batch does not divide, or distillation without MoCo, is refused")
    func invalidObjectives() throws {
        #expect(throws: ModelError.self) {
            try ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration(queueSize: 10)))
                .validate(batchSize: 4)
        }
        // Distillation cannot be set on the in-batch contrast in code; a file that asks for it is refused.
        let inBatchWithDistillation = Data(
            #"{"contrast": "in_batch", "distillation": 0.4, "masked_language_model_weight": 0, "masking_probability": 0.15}"#
                .utf8)
        #expect(throws: ModelError.self) {
            try JSONDecoder().decode(ObjectiveConfiguration.self, from: inBatchWithDistillation)
        }
        let ramp = ObjectiveConfiguration(
            contrast: .momentum(MomentumContrastConfiguration(distillation: 0.4, distillationWarmupSteps: 100)))
        #expect(ramp.distillationWeight(atStep: 0) == 0)
        #expect(abs(ramp.distillationWeight(atStep: 50) - 0.2) < 1e-12)
        #expect(ramp.distillationWeight(atStep: 500) == 0.4)
    }
}

@Suite("Momentum distillation and masking")
struct DistillationAndMaskingTests {
    @Test("distillation targets: α·softmax(teacher scores) + (1 − α)·one-hot, checked against plain arithmetic")
    func distillationTargets() throws {
        // One image query, its text key, a 2-key text queue; the teacher is the image key.
        let q: [Double] = [0.6, 0.8]
        let k: [Double] = [1, 0]
        let teacher: [Double] = [0, 1]
        let queue: [[Double]] = [[0, 1], [0.8, 0.6]]
        let tau = 0.5
        let alpha = 0.4
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map(*).reduce(0, +) }
        let logits = ([dot(q, k)] + queue.map { dot(q, $0) }).map { $0 / tau }
        let teacherLogits = ([dot(teacher, k)] + queue.map { dot(teacher, $0) }).map { $0 / tau }
        let teacherSum = teacherLogits.map(Foundation.exp).reduce(0, +)
        let targets = teacherLogits.enumerated().map { i, v in alpha * Foundation.exp(v) / teacherSum + (i == 0 ? 1 - alpha : 0) }
        let logSum = Foundation.log(logits.map(Foundation.exp).reduce(0, +))
        let expected = -zip(targets, logits).map { $0 * ($1 - logSum) }.reduce(0, +)

        let tensor = { (values: [Double]) in try Tensor(values, shape: [1, values.count]) }
        let loss = try MomentumContrastiveLoss(temperature: tau)
        let output = try loss(
            imageQueries: tensor(q), textQueries: tensor(k), imageKeys: tensor(teacher), textKeys: tensor(k),
            imageQueue: Tensor(queue.flatMap { $0 }, shape: [2, 2]), textQueue: Tensor(queue.flatMap { $0 }, shape: [2, 2]),
            distillation: alpha)
        #expect(abs(try output.imageToText.item() - expected) < 1e-12)

        let hard = try loss(
            imageQueries: tensor(q), textQueries: tensor(k), imageKeys: tensor(teacher), textKeys: tensor(k),
            imageQueue: Tensor(queue.flatMap { $0 }, shape: [2, 2]), textQueue: Tensor(queue.flatMap { $0 }, shape: [2, 2]))
        let hardExpected = -(logits[0] - logSum)
        #expect(abs(try hard.imageToText.item() - hardExpected) < 1e-12)
        #expect(abs(try hard.imageToText.item() - (try output.imageToText.item())) > 1e-3)
    }

    @Test("batch negatives: each query is scored against every key of its batch and the queue, positive on the diagonal")
    func batchNegatives() throws {
        let queries: [[Double]] = [[1, 0], [0.6, 0.8]]
        let keys: [[Double]] = [[0.8, 0.6], [0, 1]]
        let queue: [[Double]] = [[-1, 0]]
        let tau = 0.5
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map(*).reduce(0, +) }
        var expected = 0.0
        for (row, query) in queries.enumerated() {
            let logits = (keys + queue).map { dot(query, $0) / tau }
            let logSum = Foundation.log(logits.map(Foundation.exp).reduce(0, +))
            expected += -(logits[row] - logSum) / Double(queries.count)
        }
        let matrix = { (rows: [[Double]]) in try Tensor(rows.flatMap { $0 }, shape: [rows.count, 2]) }
        let loss = try MomentumContrastiveLoss(temperature: tau, batchNegatives: true)
        let output = try loss(
            imageQueries: matrix(queries), textQueries: matrix(queries), imageKeys: matrix(keys), textKeys: matrix(keys),
            imageQueue: matrix(queue), textQueue: matrix(queue))
        #expect(abs(try output.imageToText.item() - expected) < 1e-12)
        // Without batch negatives the other key of the batch is not among the columns: a different loss.
        let queueOnly = try MomentumContrastiveLoss(temperature: tau)(
            imageQueries: matrix(queries), textQueries: matrix(queries), imageKeys: matrix(keys), textKeys: matrix(keys),
            imageQueue: matrix(queue), textQueue: matrix(queue))
        #expect(abs(try queueOnly.imageToText.item() - expected) > 1e-3)
    }

    @Test("MLM masks ~15 % of real tokens, never special or padding ones, 80/10/10, the same for a seed")
    func masking() throws {
        let batch = try ModelFixtures.batch(2000, seed: 19)
        let masked = try MaskedTokens.draw(
            tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, maskID: 3,
            vocabularySize: ModelFixtures.vocabularySize, specialIDs: [0, 1, 2], seed: 20)
        let original = try batch.tokenIDs.toArray(Int64.self)
        let corrupted = try masked.tokenIDs.toArray(Int64.self)
        let positions = try masked.positions.toArray(Int64.self).map(Int.init)
        let labels = try masked.labels.toArray(Int64.self)
        let eligible = original.filter { $0 > 2 }.count
        let fraction = Double(positions.count) / Double(eligible)
        #expect(abs(fraction - 0.15) < 0.01, "masked fraction \(fraction)")
        #expect(positions.allSatisfy { original[$0] > 2 })
        #expect(zip(positions, labels).allSatisfy { original[$0] == $1 })
        let unchangedOutside = Set(positions)
        #expect(original.indices.allSatisfy { unchangedOutside.contains($0) || original[$0] == corrupted[$0] })
        let toMask = Double(positions.filter { corrupted[$0] == 3 }.count) / Double(positions.count)
        #expect(abs(toMask - 0.8) < 0.03, "[MASK] share \(toMask)")
        let again = try MaskedTokens.draw(
            tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask, maskID: 3,
            vocabularySize: ModelFixtures.vocabularySize, specialIDs: [0, 1, 2], seed: 20)
        #expect(try again.tokenIDs.equals(masked.tokenIDs))
    }
}
