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
