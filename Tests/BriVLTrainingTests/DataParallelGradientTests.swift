import BriVL
import DistributedTestSupport
import Foundation
import ModelTestSupport
import Testing
import Torch
import TorchNN

@testable import BriVLTraining

/// Data parallelism against a single process, with the ranks of a Gloo group as threads: the gradients of the
/// global batch, and ZeRO-1's sharded optimizer against the plain one.
@Suite("Data-parallel gradients and ZeRO-1 (ranks as threads)", .serialized)
struct DataParallelGradientTests {
    static let batch = 8

    /// A tiny model and objective, identical on every rank (seeded), and the global batch.
    static func setUp(_ objective: ObjectiveConfiguration) throws -> (PretrainingObjective, images: Tensor, ids: Tensor, mask: Tensor) {
        let model = try BriVLModel(TinyModels.configuration(vocabularySize: 40), generator: Generator(seed: 3))
        let pretraining = try PretrainingObjective(
            model: model, configuration: objective, batchSize: batch, generator: Generator(seed: 4))
        let images = try Tensor.randn([batch, 3, 16, 16], generator: Generator(seed: 5))
        let ids = try Tensor.randint(4..<40, shape: [batch, 12], generator: Generator(seed: 6))
        let mask = try Tensor.ones([batch, 12], dtype: .int64)
        return (pretraining, images, ids, mask)
    }

    /// The parameter gradients, flattened in parameter order, and the loss.
    static func gradients(of objective: PretrainingObjective, images: Tensor, ids: Tensor, mask: Tensor) throws
        -> (loss: Double, gradients: [Double])
    {
        let output = try objective.accumulateGradients(images: images, tokenIDs: ids, attentionMask: mask, step: 0, seed: 9)
        let gradients = try objective.model.trainableParameters().flatMap { parameter -> [Double] in
            guard let gradient = parameter.grad else { return Array(repeating: 0, count: parameter.count) }
            return try gradient.to(dtype: .float64).reshaped([-1]).toArray(Double.self)
        }
        return (output.loss, gradients)
    }

    static let objectives: [(String, ObjectiveConfiguration)] = [
        ("in-batch", .clip),
        ("MoCo + distillation", ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration(queueSize: 16, distillation: 0.4)))),
    ]

    @Test(
        "averaged rank gradients equal the single-process gradients of the global batch",
        arguments: [(2, 0), (4, 0), (2, 1), (4, 1)])
    func gradientsMatchSingleProcess(world: Int, objectiveIndex: Int) throws {
        var configuration = Self.objectives[objectiveIndex].1
        // Batch norm normalises each rank's rows; the single-process reference sees the same rows per chunk.
        configuration.gradientCacheChunk = Self.batch / world
        let (reference, images, ids, mask) = try Self.setUp(configuration)
        let expected = try Self.gradients(of: reference, images: images, ids: ids, mask: mask)

        configuration.gradientCacheChunk = nil
        let rankConfiguration = configuration
        let perRank = try withRanks(world) { group -> (loss: Double, gradients: [Double]) in
            let (objective, images, ids, mask) = try Self.setUp(rankConfiguration)
            objective.processGroup = group
            let rows = Self.batch / world
            func slice(_ tensor: Tensor) throws -> Tensor {
                try tensor.narrowed(dimension: 0, start: group.rank * rows, length: rows)
            }
            let output = try objective.accumulateGradients(
                images: slice(images), tokenIDs: slice(ids), attentionMask: slice(mask), step: 0, seed: 9)
            let parameters = objective.model.trainableParameters()
            try GradientSynchroniser(group: group, bucketBytes: 4096).averageGradients(of: parameters)
            let gradients = try parameters.flatMap { parameter -> [Double] in
                guard let gradient = parameter.grad else { return Array(repeating: 0, count: parameter.count) }
                return try gradient.to(dtype: .float64).reshaped([-1]).toArray(Double.self)
            }
            // The queues must end the step identical on every rank: they hold the gathered global keys.
            if let queue = objective.momentumContrast?.imageQueue { #expect(queue.position == Self.batch % 16) }
            return (output.loss, gradients)
        }
        let scale = expected.gradients.map(abs).max() ?? 1
        #expect(scale > 1e-4, "the reference gradient is zero: the check would pass vacuously")
        for result in perRank {
            #expect(abs(result.loss - expected.loss) <= 1e-5 * abs(expected.loss))
            let worst = zip(result.gradients, expected.gradients).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5 * scale, "largest gradient difference \(worst) (largest gradient \(scale))")
        }
        // All ranks hold the same averaged gradient.
        #expect(Set(perRank.map(\.gradients)).count == 1)
    }

    @Test("the check can fail: without averaging, a rank's gradient is not the global one")
    func unaveragedGradientsDiffer() throws {
        var configuration = ObjectiveConfiguration.clip
        configuration.gradientCacheChunk = Self.batch / 2
        let (reference, images, ids, mask) = try Self.setUp(configuration)
        let expected = try Self.gradients(of: reference, images: images, ids: ids, mask: mask)
        configuration.gradientCacheChunk = nil
        let rankConfiguration = configuration
        let perRank = try withRanks(2) { group -> [Double] in
            let (objective, images, ids, mask) = try Self.setUp(rankConfiguration)
            objective.processGroup = group
            func slice(_ tensor: Tensor) throws -> Tensor { try tensor.narrowed(dimension: 0, start: group.rank * 4, length: 4) }
            return try Self.gradients(of: objective, images: slice(images), ids: slice(ids), mask: slice(mask)).gradients
        }
        let worst = zip(perRank[0], expected.gradients).map { abs($0 - $1) }.max() ?? 0
        #expect(worst > 1e-3)
    }

    @Test("gradient buckets respect the byte cap and keep every gradient once, in order")
    func buckets() throws {
        let tensors = try [3, 5, 100, 2, 2].map { try Tensor.zeros([$0]) }
        let buckets = GradientSynchroniser.buckets(tensors, cap: 40)
        #expect(buckets.map { $0.map(\.count) } == [[3, 5], [100], [2, 2]])
    }

    @Test("ZeRO-1 shards cut the flat parameter vector into equal contiguous ranges")
    func shardRanges() {
        let sizes = [100, 60, 50, 10, 5, 5]
        let first = ShardedAdamW.ranges(sizes: sizes, owned: 0..<115)
        let second = ShardedAdamW.ranges(sizes: sizes, owned: 115..<230)
        #expect(first.map { [$0.parameter, $0.start, $0.length] } == [[0, 0, 100], [1, 0, 15]])
        #expect(second.map { [$0.parameter, $0.start, $0.length] } == [[1, 15, 45], [2, 0, 50], [3, 0, 10], [4, 0, 5], [5, 0, 5]])
    }

    static func makeParameters() throws -> [Tensor] {
        let generator = try Generator(seed: 21)
        return try [[6, 5], [5], [7, 3], [2]].map { try Tensor.randn($0, generator: generator).requiringGrad() }
    }
    static func setGradients(_ parameters: [Tensor], step: Int) throws {
        for (index, parameter) in parameters.enumerated() {
            parameter.grad.map { try? $0.zeroInPlace() }
            let weights = try Tensor.randn(parameter.shape, generator: Generator(seed: UInt64(100 * step + index)))
            try (parameter * parameter * weights).sum().backward()
        }
    }
    static func groups(_ parameters: [Tensor]) -> [ParameterGroup] {
        [ParameterGroup([parameters[0], parameters[2]], weightDecay: 0.1), ParameterGroup([parameters[1], parameters[3]])]
    }
    static func keys(_ parameters: [Tensor]) -> [(key: String, tensor: Tensor)] {
        parameters.enumerated().map { ("p\($0.offset)", $0.element) }
    }

    @Test("ZeRO-1 on two ranks: the same parameters as plain AdamW, half the state per rank, full-format checkpoints")
    func shardedOptimizerMatchesPlain() throws {
        let plainParameters = try Self.makeParameters()
        let plain = try AdamW(groups: Self.groups(plainParameters), learningRate: 0.05)
        for step in 0..<4 {
            try Self.setGradients(plainParameters, step: step)
            try plain.step()
        }
        let plainState = try plain.exportState(parameterKeys: Self.keys(plainParameters))

        let results = try withRanks(2) { group -> (parameters: [[Float]], bytes: Int, state: [String: [Float]], resumed: [[Float]]) in
            let parameters = try Self.makeParameters()
            let sharded = try ShardedAdamW(groups: Self.groups(parameters), processGroup: group, learningRate: 0.05)
            for step in 0..<4 {
                try Self.setGradients(parameters, step: step)
                try sharded.step()
            }
            let exported = try sharded.exportState(parameterKeys: Self.keys(parameters))
            // Import a full state into a fresh sharded optimizer and take one more step on both.
            let again = try Self.makeParameters()
            for (target, source) in zip(again, parameters) { try withNoGrad { try target.copyInPlace(from: source) } }
            let resumed = try ShardedAdamW(groups: Self.groups(again), processGroup: group, learningRate: 0.05)
            try resumed.importState(exported, parameterKeys: Self.keys(again))
            try Self.setGradients(again, step: 9)
            try resumed.step()
            return (
                try parameters.map { try $0.toArray(Float.self) }, sharded.localStateBytes,
                try exported.tensors.mapValues { try $0.toArray(Float.self) }, try again.map { try $0.toArray(Float.self) }
            )
        }
        let expected = try plainParameters.map { try $0.toArray(Float.self) }
        let totalBytes = plainParameters.reduce(0) { $0 + 2 * $1.byteCount }
        for result in results {
            #expect(result.parameters == expected, "sharded and plain AdamW parameters differ")
            #expect(result.bytes < totalBytes && result.bytes > 0)
            #expect(result.state == (try plainState.tensors.mapValues { try $0.toArray(Float.self) }))
        }
        #expect(results[0].bytes + results[1].bytes == totalBytes)
        #expect(results[0].bytes == results[1].bytes, "the 58 elements split 29/29")
        try Self.setGradients(plainParameters, step: 9)
        try plain.step()
        let plainNext = try plainParameters.map { try $0.toArray(Float.self) }
        #expect(results.allSatisfy { $0.resumed == plainNext })
    }

    @Test("ZeRO-1's reduce-scatter and range-wise clipping give what full averaging and clipping give", arguments: [2, 4])
    func shardedGradientPathMatchesFullAveraging(world: Int) throws {
        let results = try withRanks(world) { group -> (full: [[Float]], sharded: [[Float]], norms: [Double]) in
            // Different gradients on every rank, large enough for clipping to act.
            func run(sharded: Bool) throws -> ([[Float]], Double) {
                let parameters = try Self.makeParameters()
                for (index, parameter) in parameters.enumerated() {
                    let weights = try Tensor.randn(parameter.shape, generator: Generator(seed: UInt64(10 * group.rank + index)))
                    try (parameter * weights * 3).sum().backward()
                }
                let norm: Double
                if sharded {
                    let optimizer = try ShardedAdamW(groups: Self.groups(parameters), processGroup: group, learningRate: 0.05)
                    try optimizer.averageGradientsOfShare()
                    norm = try optimizer.clipGradientNorm(maxNorm: 1)
                    try optimizer.step()
                } else {
                    let optimizer = try AdamW(groups: Self.groups(parameters), learningRate: 0.05)
                    try GradientSynchroniser(group: group).averageGradients(of: parameters)
                    norm = try clipGradientNorm(parameters, maxNorm: 1)
                    try optimizer.step()
                }
                return (try parameters.map { try $0.toArray(Float.self) }, norm)
            }
            let (full, fullNorm) = try run(sharded: false)
            let (sharded, shardedNorm) = try run(sharded: true)
            return (full, sharded, [fullNorm, shardedNorm])
        }
        for result in results {
            #expect(result.norms[0] > 1, "clipping must act for the check to mean something")
            #expect(abs(result.norms[0] - result.norms[1]) <= 1e-5 * result.norms[0])
            let worst = zip(result.full.joined(), result.sharded.joined()).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6, "largest parameter difference \(worst)")
        }
        #expect(Set(results.map(\.sharded)).count == 1, "the ranks end with different parameters")
    }
}
