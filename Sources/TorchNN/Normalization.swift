import Torch

/// Layer normalisation over the trailing dimensions.
public final class LayerNorm: Module, UnaryLayer {
    public let weight: Tensor?
    public let bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, affine: Bool = true) throws {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = affine ? try Initialization.constant(normalizedShape, 1) : nil
        bias = affine ? try Initialization.constant(normalizedShape, 0) : nil
    }

    public convenience init(_ size: Int, eps: Double = 1e-5, affine: Bool = true) throws {
        try self.init([size], eps: eps, affine: affine)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Functional.layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}

/// Batch normalisation over the channels of [N, C, H, W], with running statistics for evaluation.
public final class BatchNorm2d: Module, UnaryLayer {
    public let weight: Tensor?
    public let bias: Tensor?
    @Buffer public private(set) var runningMean: Tensor
    @Buffer public private(set) var runningVar: Tensor
    /// How many training batches updated the running statistics (kept for checkpoint compatibility).
    @Buffer public private(set) var numBatchesTracked: Tensor
    public let eps: Double
    public let momentum: Double

    public init(_ channels: Int, eps: Double = 1e-5, momentum: Double = 0.1, affine: Bool = true) throws {
        weight = affine ? try Initialization.constant([channels], 1) : nil
        bias = affine ? try Initialization.constant([channels], 0) : nil
        runningMean = try Tensor.zeros([channels])
        runningVar = try Tensor.ones([channels])
        numBatchesTracked = try Tensor.zeros([], dtype: .int64)
        self.eps = eps
        self.momentum = momentum
    }

    /// In training mode normalises with batch statistics and updates the running ones; in evaluation mode uses
    /// the running statistics. Freezing BN (as BriVL fine-tuning does) is `eval()` on this module.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        if training {
            try withNoGrad { try numBatchesTracked.addInPlace(1) }
        }
        return try Functional.batchNorm(
            input, weight: weight, bias: bias, runningMean: runningMean, runningVariance: runningVar,
            training: training, momentum: momentum, eps: eps)
    }
}
