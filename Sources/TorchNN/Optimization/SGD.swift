import Torch

/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 weight decay,
/// with PyTorch's update rule:
///
///     g ← ∇ + λ·p;   b ← μ·b + (1 − dampening)·g  (b ← g on the first step);   d ← g + μ·b (Nesterov) or b;   p ← p − lr·d
public final class SGD: Optimizer {
    public var learningRate: Double
    public let groups: [ParameterGroup]
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool
    private var buffers: [ObjectIdentifier: Tensor] = [:]
    /// Updates applied to each parameter: which parameters have a momentum buffer, for an exported state.
    private var steps: [ObjectIdentifier: Int] = [:]

    /// The name of this optimizer in an exported ``OptimizerState``.
    public static let kind = "SGD"

    private var hyperparameters: [String: Double] {
        ["momentum": momentum, "dampening": dampening, "nesterov": nesterov ? 1 : 0]
    }

    /// Tensor slots of a parameter's state, named as in PyTorch's SGD; plain SGD keeps none.
    private var slots: [String] { momentum != 0 ? ["momentum_buffer"] : [] }

    public init(
        groups: [ParameterGroup], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
        nesterov: Bool = false
    ) throws {
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw ModuleError.invalidConfiguration("Nesterov momentum needs momentum > 0 and no dampening")
        }
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    public convenience init(
        parameters: [Tensor], learningRate: Double, momentum: Double = 0, weightDecay: Double = 0,
        nesterov: Bool = false
    ) throws {
        try self.init(
            groups: [ParameterGroup(parameters, weightDecay: weightDecay)], learningRate: learningRate,
            momentum: momentum, nesterov: nesterov)
    }

    public func step() throws {
        try withNoGrad {
            for group in groups {
                let rate = learningRate * group.learningRateScale
                for parameter in group.parameters {
                    guard var gradient = parameter.grad else { continue }
                    steps[ObjectIdentifier(parameter), default: 0] += 1
                    if group.weightDecay != 0 { gradient = try gradient + parameter * group.weightDecay }
                    if momentum != 0 {
                        let id = ObjectIdentifier(parameter)
                        let buffer: Tensor
                        if let existing = buffers[id] {
                            buffer = existing
                            try buffer.multiplyInPlace(momentum)
                            try buffer.addInPlace(gradient, alpha: 1 - dampening)
                        } else {
                            buffer = try gradient.clone()
                            buffers[id] = buffer
                        }
                        gradient = nesterov ? try gradient + buffer * momentum : buffer
                    }
                    try parameter.addInPlace(gradient, alpha: -rate)
                }
            }
        }
    }
}

extension SGD {
    public func exportState(parameterKeys: [(key: String, tensor: Tensor)]) throws -> OptimizerState {
        let table = try ParameterKeyTable(groups: groups, parameterKeys: parameterKeys)
        var tensors: [String: Tensor] = [:]
        var counts: [String: Int] = [:]
        try withNoGrad {
            for (key, parameter) in table.pairs(groups) {
                let id = ObjectIdentifier(parameter)
                guard let count = steps[id] else { continue }
                counts[key] = count
                if let buffer = buffers[id] { tensors["\(key).momentum_buffer"] = try buffer.clone() }
            }
        }
        let metadata = OptimizerState.Metadata(
            kind: Self.kind, learningRate: learningRate, hyperparameters: hyperparameters,
            groups: table.metadata(of: groups), steps: counts)
        return OptimizerState(tensors: tensors, metadata: metadata)
    }

    public func importState(_ state: OptimizerState, parameterKeys: [(key: String, tensor: Tensor)]) throws {
        let table = try ParameterKeyTable(groups: groups, parameterKeys: parameterKeys)
        try state.validate(
            kind: Self.kind, hyperparameters: hyperparameters, groups: groups, table: table, slots: slots)
        var restoredBuffers: [ObjectIdentifier: Tensor] = [:]
        var restoredSteps: [ObjectIdentifier: Int] = [:]
        for (key, parameter) in table.pairs(groups) {
            guard let count = state.metadata.steps[key] else { continue }
            let id = ObjectIdentifier(parameter)
            restoredSteps[id] = count
            if momentum != 0 { restoredBuffers[id] = try state.copy("momentum_buffer", of: key, like: parameter) }
        }
        buffers = restoredBuffers
        steps = restoredSteps
        learningRate = state.metadata.learningRate
    }
}
