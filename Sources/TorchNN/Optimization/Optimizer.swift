import Torch

/// Parameters that share optimizer settings.
public struct ParameterGroup {
    public var parameters: [Tensor]
    public var weightDecay: Double
    /// Multiplies the optimizer's learning rate for this group (e.g. a smaller rate for a pretrained backbone).
    public var learningRateScale: Double

    public init(_ parameters: [Tensor], weightDecay: Double = 0, learningRateScale: Double = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }

    /// Splits a module's trainable parameters into a decayed group and an undecayed one.
    ///
    /// Following common practice (BERT, CLIP, OpenCLIP), biases, normalisation weights and other parameters of
    /// rank < 2 (gains, temperatures, logit scales) are not decayed; neither are parameters whose key contains
    /// one of `excludedKeyFragments`.
    public static func decayGroups(
        for module: Module, weightDecay: Double, excludedKeyFragments: [String] = ["logit_scale", "temperature"]
    ) -> [ParameterGroup] {
        var decayed: [Tensor] = []
        var undecayed: [Tensor] = []
        for (key, parameter) in module.namedParameters() where parameter.requiresGrad {
            let excluded = parameter.rank < 2 || excludedKeyFragments.contains { key.contains($0) }
            if excluded { undecayed.append(parameter) } else { decayed.append(parameter) }
        }
        return [ParameterGroup(decayed, weightDecay: weightDecay), ParameterGroup(undecayed, weightDecay: 0)]
    }
}

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// The base learning rate; schedules set it before each step.
    var learningRate: Double { get set }
    var groups: [ParameterGroup] { get }
    /// Applies one update to every parameter that has a gradient.
    func step() throws
    /// The full state (per-parameter tensors, step counts, learning rate, settings) keyed by checkpoint keys.
    /// `parameterKeys` must name every parameter of ``groups``; pass the model's `namedParameters()`. The tensors
    /// are copies: later steps do not change an exported state.
    func exportState(parameterKeys: [(key: String, tensor: Tensor)]) throws -> OptimizerState
    /// Replaces the whole state with an exported one, matched by key, so that the next ``step()`` does exactly
    /// what it would have done in the run that exported it. Everything is checked first — optimizer kind,
    /// settings, groups, keys, shapes — and a mismatch throws a ``ModuleError`` naming it, leaving the optimizer
    /// unchanged.
    func importState(_ state: OptimizerState, parameterKeys: [(key: String, tensor: Tensor)]) throws
    /// Readies the gradients accumulated on `parameters` for ``step()``: each replaced by its mean over the ranks of
    /// a data-parallel job (`averaging`; nil in one process), then all scaled together so their global L2 norm is
    /// at most `maxNorm`. Returns the global norm before clipping.
    ///
    /// An optimizer that shards its state over the ranks (``ShardedAdamW``) averages and clips only the range it
    /// updates, over its own process group, and ignores `averaging`.
    func prepareGradients(of parameters: [Tensor], averagingWith averaging: (any GradientAveraging)?, maxNorm: Double)
        throws -> Double
}

/// Replaces gradients by their mean over the ranks of a data-parallel job.
public protocol GradientAveraging {
    /// Returns the bytes this rank reduced.
    @discardableResult
    func averageGradients(of parameters: [Tensor]) throws -> Int
}

extension Optimizer {
    /// The state keyed by `module`'s parameter keys (the optimizer's parameters must all belong to `module`).
    public func exportState(for module: Module) throws -> OptimizerState {
        try exportState(parameterKeys: module.namedParameters())
    }

    /// Imports a state keyed by `module`'s parameter keys.
    public func importState(_ state: OptimizerState, for module: Module) throws {
        try importState(state, parameterKeys: module.namedParameters())
    }

    public func prepareGradients(
        of parameters: [Tensor], averagingWith averaging: (any GradientAveraging)?, maxNorm: Double
    ) throws -> Double {
        try averaging?.averageGradients(of: parameters)
        return try clipGradientNorm(parameters, maxNorm: maxNorm)
    }

    /// Clears every parameter's gradient (frees it, like PyTorch's set_to_none).
    public func zeroGrad() throws {
        for group in groups {
            for parameter in group.parameters { try parameter.setGrad(nil) }
        }
    }
}
