import Foundation
import Torch

/// AdamW with its state sharded across a data-parallel group (ZeRO stage 1).
///
/// The parameters, flattened and laid end to end in group order, are cut into W contiguous ranges of equal length;
/// rank r keeps the moments of range r only and updates only those elements (AdamW's rule is elementwise, so a
/// slice of a parameter updates exactly as the whole would). One all-gather then gives every rank every updated
/// element.
///
/// A step needs the average gradient of this rank's range only. ``averageGradientsOfShare()`` gets it with one
/// reduce-scatter of the ranks' gradients, and ``clipGradientNorm(maxNorm:)`` clips by the global norm computed from
/// the ranges, so a step communicates what one all-reduce of the gradients would. ``step()`` alone also works on
/// gradients the caller has averaged in full; on the same gradients it produces the parameters an unsharded
/// ``AdamW`` produces, to the bit.
///
/// ``exportState(parameterKeys:)`` and ``importState(_:parameterKeys:)`` are collective and use the full (unsharded)
/// format: a checkpoint written by any world size, sharded or not, resumes under any other.
public final class ShardedAdamW: Optimizer {
    public let groups: [ParameterGroup]
    public let processGroup: ProcessGroup
    /// The update rule and its settings; it holds no state itself.
    private let rule: AdamW
    private let parameters: [Tensor]
    /// Each parameter's group index.
    private let groupOfParameter: [Int]
    /// This rank's share: slices of parameters, in flat order.
    private let pieces: [Piece]
    /// Elements per rank (the last ranks may own fewer; every rank sends this many into the all-gather).
    private let shardLength: Int
    private let totalLength: Int

    /// A slice of one parameter's flattened elements, with its moments once it has been updated.
    final class Piece {
        let parameterIndex: Int
        let start: Int
        let length: Int
        var firstMoment: Tensor?
        var secondMoment: Tensor?
        var step = 0

        init(parameterIndex: Int, start: Int, length: Int) {
            self.parameterIndex = parameterIndex
            self.start = start
            self.length = length
        }
    }

    public var learningRate: Double {
        get { rule.learningRate }
        set { rule.learningRate = newValue }
    }

    public init(
        groups: [ParameterGroup], processGroup: ProcessGroup, learningRate: Double = 1e-3,
        betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8
    ) throws {
        self.groups = groups
        self.processGroup = processGroup
        rule = try AdamW(groups: [], learningRate: learningRate, betas: betas, eps: eps)
        parameters = groups.flatMap(\.parameters)
        groupOfParameter = groups.enumerated().flatMap { index, group in group.parameters.map { _ in index } }
        let sizes = parameters.map(\.count)
        totalLength = sizes.reduce(0, +)
        let world = processGroup.worldSize
        shardLength = Swift.max(1, (totalLength + world - 1) / world)
        pieces = Self.ranges(sizes: sizes, owned: Self.bounds(rank: processGroup.rank, shardLength: shardLength, total: totalLength))
            .map { Piece(parameterIndex: $0.parameter, start: $0.start, length: $0.length) }
    }

    /// The flat element range rank `rank` owns.
    static func bounds(rank: Int, shardLength: Int, total: Int) -> Range<Int> {
        Swift.min(total, rank * shardLength)..<Swift.min(total, (rank + 1) * shardLength)
    }

    /// The parts of consecutive parameters of `sizes` that fall in the flat range `owned`.
    public static func ranges(sizes: [Int], owned: Range<Int>) -> [(parameter: Int, start: Int, length: Int)] {
        var result: [(Int, Int, Int)] = []
        var offset = 0
        for (index, size) in sizes.enumerated() {
            let lower = Swift.max(offset, owned.lowerBound)
            let upper = Swift.min(offset + size, owned.upperBound)
            if lower < upper { result.append((index, lower - offset, upper - lower)) }
            offset += size
        }
        return result
    }

    /// Bytes of optimizer state this rank holds (both moments of its share, once updated).
    public var localStateBytes: Int {
        pieces.reduce(0) { $0 + ($1.firstMoment?.byteCount ?? 0) + ($1.secondMoment?.byteCount ?? 0) }
    }

    /// Averages and clips the share of the gradients this rank updates (see ``averageGradientsOfShare()`` and
    /// ``clipGradientNorm(maxNorm:)``); `parameters` and `averaging` are not needed, the share and the group are
    /// this optimizer's own.
    public func prepareGradients(
        of parameters: [Tensor], averagingWith averaging: (any GradientAveraging)?, maxNorm: Double
    ) throws -> Double {
        try averageGradientsOfShare()
        return try clipGradientNorm(maxNorm: maxNorm)
    }

    /// Replaces this rank's range of every gradient with its average over the ranks (a reduce-scatter of the
    /// gradients laid end to end). The rest of each gradient is left as it was and must not be used.
    public func averageGradientsOfShare() throws {
        let world = processGroup.worldSize
        guard world > 1 else { return }
        try withNoGrad {
            let reference = parameters[0]
            var flat = try parameters.map { parameter -> Tensor in
                guard let gradient = parameter.grad else {
                    return try Tensor.zeros([parameter.count], dtype: reference.dtype, device: reference.device)
                }
                return try gradient.reshaped([-1])
            }
            let padding = shardLength * world - totalLength
            if padding > 0 { flat.append(try Tensor.zeros([padding], dtype: reference.dtype, device: reference.device)) }
            let share = try processGroup.reduceScatter(Tensor.cat(flat), .sum)
            try share.multiplyInPlace(1 / Double(world))
            var offset = 0
            for piece in pieces {
                defer { offset += piece.length }
                guard let gradient = parameters[piece.parameterIndex].grad else { continue }
                guard gradient.isContiguous else {
                    throw TorchError.invalidArgument("ZeRO-1 needs contiguous gradients")
                }
                try Self.flatSlice(of: gradient, piece).copyInPlace(
                    from: share.narrowed(dimension: 0, start: offset, length: piece.length))
            }
        }
    }

    /// Scales this rank's ranges of the gradients so that the global norm (over all ranks' ranges) is at most
    /// `maxNorm`, as ``clipGradientNorm(_:maxNorm:)`` does for whole gradients. Call after
    /// ``averageGradientsOfShare()``. Returns the global norm before clipping.
    @discardableResult
    public func clipGradientNorm(maxNorm: Double) throws -> Double {
        try withNoGrad {
            // One engine reduction per piece and a single read of the result, after the all-reduce.
            let squares = try pieces.compactMap { piece -> Tensor? in
                guard let gradient = parameters[piece.parameterIndex].grad else { return nil }
                let slice = try Self.flatSlice(of: gradient, piece).to(dtype: .float64)
                return try (slice * slice).sum()
            }
            let total =
                try squares.isEmpty
                ? Tensor.zeros([1], dtype: .float64, device: parameters[0].device)
                : Tensor.stack(squares).sum().reshaped([1])
            try processGroup.allReduce([total], .sum)
            let norm = try total.item().squareRoot()
            let scale = maxNorm / (norm + 1e-6)
            if scale < 1 {
                for piece in pieces {
                    guard let gradient = parameters[piece.parameterIndex].grad else { continue }
                    try Self.flatSlice(of: gradient, piece).multiplyInPlace(scale)
                }
            }
            return norm
        }
    }

    public func step() throws {
        try withNoGrad {
            for piece in pieces {
                let parameter = parameters[piece.parameterIndex]
                guard let gradient = parameter.grad else { continue }
                let slice = try Self.flatSlice(of: parameter, piece)
                if piece.firstMoment == nil {
                    piece.firstMoment = try Tensor.zeros([piece.length], dtype: parameter.dtype, device: parameter.device)
                    piece.secondMoment = try Tensor.zeros([piece.length], dtype: parameter.dtype, device: parameter.device)
                }
                piece.step += 1
                let group = groups[groupOfParameter[piece.parameterIndex]]
                try rule.update(
                    slice, gradient: try Self.flatSlice(of: gradient, piece), firstMoment: piece.firstMoment!,
                    secondMoment: piece.secondMoment!, step: piece.step,
                    learningRate: rule.learningRate * group.learningRateScale, weightDecay: group.weightDecay)
            }
            let updated = try gatherFlat { try Self.flatSlice(of: parameters[$0.parameterIndex], $0) }
            var offset = 0
            for parameter in parameters {
                let values = try updated.narrowed(dimension: 0, start: offset, length: parameter.count)
                try parameter.copyInPlace(from: values.reshaped(parameter.shape))
                offset += parameter.count
            }
        }
    }

    private static func flatSlice(of tensor: Tensor, _ piece: Piece) throws -> Tensor {
        try tensor.reshaped([-1]).narrowed(dimension: 0, start: piece.start, length: piece.length)
    }

    /// Every rank's pieces of something (parameters, moments) laid end to end: the full flat vector of `total`
    /// elements, on every rank.
    private func gatherFlat(_ values: (Piece) throws -> Tensor) throws -> Tensor {
        let reference = parameters[0]
        var parts = try pieces.map { try values($0) }
        let owned = parts.reduce(0) { $0 + $1.count }
        if owned < shardLength {
            parts.append(try Tensor.zeros([shardLength - owned], dtype: reference.dtype, device: reference.device))
        }
        let gathered = try processGroup.allGather(Tensor.cat(parts))
        return try gathered.narrowed(dimension: 0, start: 0, length: totalLength)
    }

    public func exportState(parameterKeys: [(key: String, tensor: Tensor)]) throws -> OptimizerState {
        let full = try AdamW(groups: groups, learningRate: rule.learningRate, betas: (rule.beta1, rule.beta2), eps: rule.eps)
        try withNoGrad {
            // A parameter's step count is known to the ranks holding its pieces; the maximum gives it to all.
            var steps = [Int64](repeating: 0, count: parameters.count)
            for piece in pieces { steps[piece.parameterIndex] = Swift.max(steps[piece.parameterIndex], Int64(piece.step)) }
            let stepTensor = try Tensor(steps, shape: [steps.count])
            try processGroup.allReduce([stepTensor], .max)
            let counts = try stepTensor.toArray(Int64.self)
            func zeros(_ piece: Piece) throws -> Tensor {
                try Tensor.zeros([piece.length], dtype: parameters[0].dtype, device: parameters[0].device)
            }
            let first = try gatherFlat { try $0.firstMoment ?? zeros($0) }
            let second = try gatherFlat { try $0.secondMoment ?? zeros($0) }
            var offset = 0
            for (parameter, count) in zip(parameters, counts) {
                defer { offset += parameter.count }
                guard count > 0 else { continue }
                func moment(_ flat: Tensor) throws -> Tensor {
                    try flat.narrowed(dimension: 0, start: offset, length: parameter.count).reshaped(parameter.shape).clone()
                }
                full.states[ObjectIdentifier(parameter)] = AdamW.State(
                    firstMoment: try moment(first), secondMoment: try moment(second), step: Int(count))
            }
        }
        return try full.exportState(parameterKeys: parameterKeys)
    }

    public func importState(_ state: OptimizerState, parameterKeys: [(key: String, tensor: Tensor)]) throws {
        // Check the whole state against the whole parameter set, then keep this rank's share.
        let full = try AdamW(groups: groups, learningRate: rule.learningRate, betas: (rule.beta1, rule.beta2), eps: rule.eps)
        try full.importState(state, parameterKeys: parameterKeys)
        try withNoGrad {
            for piece in pieces {
                guard let saved = full.state(of: parameters[piece.parameterIndex]) else {
                    piece.firstMoment = nil
                    piece.secondMoment = nil
                    piece.step = 0
                    continue
                }
                piece.firstMoment = try Self.flatSlice(of: saved.firstMoment, piece).clone()
                piece.secondMoment = try Self.flatSlice(of: saved.secondMoment, piece).clone()
                piece.step = saved.step
            }
        }
        rule.learningRate = full.learningRate
    }
}
