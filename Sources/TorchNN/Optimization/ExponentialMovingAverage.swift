import Torch

/// Keeps `target`'s parameters an exponential moving average of `source`'s: t ← m·t + (1 − m)·s.
///
/// This is the momentum-encoder update of MoCo (BriVL uses m = 0.99). Only parameters move: buffers such as BN
/// running statistics are left to the target's own forward passes, as in MoCo.
public struct ExponentialMovingAverage: Sendable {
    public var momentum: Double

    public init(momentum: Double) throws {
        guard (0...1).contains(momentum) else {
            throw ModuleError.invalidConfiguration("EMA momentum \(momentum) is not in [0, 1]")
        }
        self.momentum = momentum
    }

    public func update(_ target: Module, from source: Module) throws {
        let targetParameters = target.namedParameters()
        let sourceParameters = source.namedParameters()
        guard targetParameters.map(\.key) == sourceParameters.map(\.key) else {
            throw ModuleError.invalidConfiguration("EMA target and source have different parameters")
        }
        try withNoGrad {
            for (t, s) in zip(targetParameters, sourceParameters) {
                try t.tensor.lerpInPlace(towards: s.tensor, weight: 1 - momentum)
            }
        }
    }
}
