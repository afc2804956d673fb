import Torch
import TorchNN

/// Gradient caching (Gao et al., 2021) for contrastive batches larger than memory allows: the loss couples every
/// pair of the batch, but only through the embeddings, so
///
/// 1. every chunk is encoded without a graph and the embeddings are concatenated;
/// 2. the loss is computed on those embeddings as leaves, and its gradient with respect to each embedding kept;
/// 3. every chunk is encoded again, with a graph, and back-propagated with its cached embedding gradients
///    (the surrogate Σ e·∂L/∂e has exactly the parameter gradient of the full-batch loss).
///
/// Only one chunk's activations are alive at a time. To make the second encoding identical to the first, the
/// random state (the engine's global generator and the modules' dropout generators) is restored per chunk, and
/// module buffers (batch-norm running statistics) are
/// restored after the first pass so they are updated once. Batch normalisation sees chunk statistics, as it
/// would in any chunked encoder. A batch that fits one chunk is encoded once, with its graph kept.
///
/// Data-parallel training uses the same split: each rank is one chunk of the global batch, the loss sees every
/// rank's embeddings, and the embedding gradients are scaled by ``embeddingGradientScale`` (the world size) so that
/// the mean of the ranks' parameter gradients is the global batch's gradient.
public struct GradientCache: Sendable {
    public var chunkSize: Int
    /// Multiplies the cached embedding gradients (not the extra loss terms) before they enter the encoders.
    public var embeddingGradientScale: Double

    /// Encodes rows `range` of the batch; with `extras` set, it may also return a loss term of those rows that
    /// does not couple samples (e.g. MLM), added to the chunk's backward pass.
    public typealias Encoder = (_ range: Range<Int>, _ extras: Bool) throws -> (embedding: Tensor, extraLoss: Tensor?)

    public init(chunkSize: Int, embeddingGradientScale: Double = 1) {
        self.chunkSize = chunkSize
        self.embeddingGradientScale = embeddingGradientScale
    }

    /// The chunk ranges of a batch.
    public static func chunks(of batchSize: Int, size: Int) -> [Range<Int>] {
        stride(from: 0, to: batchSize, by: size).map { $0..<Swift.min($0 + size, batchSize) }
    }

    /// Accumulates the parameter gradients of `loss(embeddings) + Σ extra losses`.
    /// - Parameters:
    ///   - encoders: one per embedding the loss takes (image, text)
    ///   - buffersOf: modules whose buffers must change only once per step, and whose dropout generators replay
    ///   - loss: the coupled loss over the full batch's embeddings, in `encoders` order
    /// - Returns: the sum of the extra loss terms' values
    @discardableResult
    public func accumulate(
        batchSize: Int, encoders: [Encoder], buffersOf modules: [Module], loss: ([Tensor]) throws -> Tensor
    ) throws -> Double {
        guard chunkSize > 0 else { throw ModelError.invalidConfiguration("the gradient-cache chunk must be positive") }
        let ranges = Self.chunks(of: batchSize, size: chunkSize)
        if ranges.count == 1 { return try accumulateInOnePass(batchSize: batchSize, encoders: encoders, loss: loss) }

        // 1. Encode without a graph, remembering the random state each chunk started from.
        let buffers = modules.flatMap { $0.namedBuffers().map(\.tensor) }
        let savedBuffers = try buffers.map { try $0.clone() }
        let random = RandomSnapshot.Sources(modules)
        var randomStates: [[RandomSnapshot]] = []
        var embeddings: [Tensor] = []
        for encoder in encoders {
            var states: [RandomSnapshot] = []
            var parts: [Tensor] = []
            for range in ranges {
                states.append(try random.snapshot())
                parts.append(try withNoGrad { try encoder(range, false).embedding })
            }
            randomStates.append(states)
            embeddings.append(try Tensor.cat(parts))
        }
        try withNoGrad {
            for (buffer, saved) in zip(buffers, savedBuffers) { try buffer.copyInPlace(from: saved) }
        }

        // 2. The loss over the whole batch, differentiated down to the embeddings (and any parameter it uses).
        let leaves = try embeddings.map { try $0.detach().requiringGrad() }
        try loss(leaves).backward()
        let cached = try leaves.map { leaf -> Tensor in
            guard let gradient = leaf.grad else {
                throw ModelError.invalidInput("the loss does not depend on every embedding it was given")
            }
            return gradient
        }

        // 3. Encode again with a graph, chunk by chunk, and push the cached gradients through.
        var extraTotal = 0.0
        for (index, encoder) in encoders.enumerated() {
            for (chunk, range) in ranges.enumerated() {
                try randomStates[index][chunk].restore()
                let (embedding, extra) = try encoder(range, true)
                let gradient = try cached[index].narrowed(dimension: 0, start: range.lowerBound, length: range.count)
                var surrogate = try (embedding * gradient).sum() * embeddingGradientScale
                if let extra {
                    extraTotal += try extra.item()
                    surrogate = try surrogate + extra
                }
                try surrogate.backward()
            }
        }
        return extraTotal
    }

    /// One chunk: encode with the graph, differentiate the loss down to the embeddings, then continue the backward
    /// pass into the encoders from there.
    private func accumulateInOnePass(batchSize: Int, encoders: [Encoder], loss: ([Tensor]) throws -> Tensor) throws
        -> Double
    {
        let encoded = try encoders.map { try $0(0..<batchSize, true) }
        let leaves = try encoded.map { try $0.embedding.detach().requiringGrad() }
        try loss(leaves).backward()
        var surrogate: Tensor?
        var extraTotal = 0.0
        for (leaf, output) in zip(leaves, encoded) {
            guard let gradient = leaf.grad else {
                throw ModelError.invalidInput("the loss does not depend on every embedding it was given")
            }
            var term = try (output.embedding * gradient).sum() * embeddingGradientScale
            if let extra = output.extraLoss {
                extraTotal += try extra.item()
                term = try term + extra
            }
            surrogate = try surrogate.map { try $0 + term } ?? term
        }
        try surrogate?.backward()
        return extraTotal
    }
}

/// The states of every generator an encoder may draw from, taken before a chunk and put back before its replay.
struct RandomSnapshot {
    /// The engine's global generator and the distinct dropout generators of some modules.
    struct Sources {
        let generators: [Generator]

        init(_ modules: [Module]) {
            var seen: Set<ObjectIdentifier> = []
            generators = modules.flatMap { [$0] + $0.namedModules().map(\.module) }
                .compactMap(\.dropoutGenerator)
                .filter { seen.insert(ObjectIdentifier($0)).inserted }
        }

        func snapshot() throws -> RandomSnapshot {
            RandomSnapshot(global: try Engine.randomState(), generators: try generators.map { ($0, try $0.state()) })
        }
    }

    let global: Tensor
    let generators: [(Generator, Tensor)]

    func restore() throws {
        try Engine.restoreRandomState(global)
        for (generator, state) in generators { try generator.restore(state) }
    }
}
