import CTorch

/// How a loss reduces over the batch.
public enum Reduction: Sendable {
    case none, mean, sum

    var code: ct_reduction {
        switch self {
        case .none: return CT_REDUCTION_NONE
        case .mean: return CT_REDUCTION_MEAN
        case .sum: return CT_REDUCTION_SUM
        }
    }
}

/// Resampling kernels for `interpolate` and `gridSample`.
public enum Interpolation: Sendable {
    case nearest, bilinear, bicubic

    var code: ct_interpolation {
        switch self {
        case .nearest: return CT_INTERP_NEAREST
        case .bilinear: return CT_INTERP_BILINEAR
        case .bicubic: return CT_INTERP_BICUBIC
        }
    }
}

/// What `gridSample` reads outside the input.
public enum GridPadding: Sendable {
    case zeros, border, reflection

    var code: ct_padding_mode {
        switch self {
        case .zeros: return CT_PAD_ZEROS
        case .border: return CT_PAD_BORDER
        case .reflection: return CT_PAD_REFLECTION
        }
    }
}

/// Neural-network functions, the stateless counterparts of the layers in TorchNN.
public enum Functional {
    /// x·Wᵀ + b for x [..., in], W [out, in], b [out].
    public static func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try Tensor.make { ct_linear($0, input.handle, weight.handle, bias?.handle) }
    }

    /// 2-D convolution of [N, C, H, W] with [O, C/groups, kH, kW].
    public static func conv2d(
        _ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) throws -> Tensor {
        let stride = [Int64(stride.0), Int64(stride.1)]
        let padding = [Int64(padding.0), Int64(padding.1)]
        let dilation = [Int64(dilation.0), Int64(dilation.1)]
        return try Tensor.make {
            ct_conv2d($0, input.handle, weight.handle, bias?.handle, stride, padding, dilation, Int64(groups))
        }
    }

    public static func maxPool2d(
        _ input: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)
    ) throws -> Tensor {
        let stride = stride ?? kernel
        return try Tensor.make {
            ct_max_pool2d(
                $0, input.handle, [Int64(kernel.0), Int64(kernel.1)], [Int64(stride.0), Int64(stride.1)],
                [Int64(padding.0), Int64(padding.1)])
        }
    }

    public static func avgPool2d(
        _ input: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
        countIncludePad: Bool = true
    ) throws -> Tensor {
        let stride = stride ?? kernel
        return try Tensor.make {
            ct_avg_pool2d(
                $0, input.handle, [Int64(kernel.0), Int64(kernel.1)], [Int64(stride.0), Int64(stride.1)],
                [Int64(padding.0), Int64(padding.1)], countIncludePad)
        }
    }

    public static func adaptiveAvgPool2d(_ input: Tensor, outputSize: (Int, Int)) throws -> Tensor {
        try Tensor.make { ct_adaptive_avg_pool2d($0, input.handle, [Int64(outputSize.0), Int64(outputSize.1)]) }
    }

    public static func adaptiveMaxPool2d(_ input: Tensor, outputSize: (Int, Int)) throws -> Tensor {
        try Tensor.make { ct_adaptive_max_pool2d($0, input.handle, [Int64(outputSize.0), Int64(outputSize.1)]) }
    }

    /// Samples [N, C, H, W] at the normalised (x, y) ∈ [-1, 1] locations of `grid` [N, Hout, Wout, 2].
    public static func gridSample(
        _ input: Tensor, grid: Tensor, mode: Interpolation = .bilinear, padding: GridPadding = .zeros,
        alignCorners: Bool = false
    ) throws -> Tensor {
        try Tensor.make {
            ct_grid_sample($0, input.handle, grid.handle, mode.code, padding.code, alignCorners)
        }
    }

    /// Resizes [N, C, H, W] to `size` (height, width). `antialias` filters when shrinking (bilinear/bicubic).
    public static func interpolate(
        _ input: Tensor, size: (Int, Int), mode: Interpolation = .bilinear, alignCorners: Bool = false,
        antialias: Bool = false
    ) throws -> Tensor {
        if mode == .nearest && (alignCorners || antialias) {
            throw TorchError.invalidArgument("nearest interpolation takes neither alignCorners nor antialias")
        }
        return try Tensor.make {
            ct_interpolate($0, input.handle, [Int64(size.0), Int64(size.1)], mode.code, alignCorners, antialias)
        }
    }

    /// Normalises over the trailing `normalizedShape` dimensions.
    public static func layerNorm(
        _ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5
    ) throws -> Tensor {
        try withInt64Buffer(normalizedShape) { shape, rank in
            try Tensor.make { ct_layer_norm($0, input.handle, shape, rank, weight?.handle, bias?.handle, eps) }
        }
    }

    /// Batch normalisation over channel dimension 1. In training mode, batch statistics are used and the running
    /// statistics are updated in place.
    public static func batchNorm(
        _ input: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVariance: Tensor?,
        training: Bool, momentum: Double = 0.1, eps: Double = 1e-5
    ) throws -> Tensor {
        try Tensor.make {
            ct_batch_norm(
                $0, input.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVariance?.handle, training,
                momentum, eps)
        }
    }

    /// Zeroes elements with probability `p` and scales the rest by 1/(1−p) when training.
    ///
    /// The mask comes from `generator` when one is given (a uniform draw below 1 − p keeps an element), else from
    /// the engine's global generator through its own dropout kernel.
    public static func dropout(_ input: Tensor, p: Double, training: Bool, generator: Generator? = nil) throws
        -> Tensor
    {
        guard (0...1).contains(p) else { throw TorchError.invalidArgument("dropout probability \(p) is not in [0, 1]") }
        if !training || p == 0 { return input }
        guard let generator else { return try Tensor.make { ct_dropout($0, input.handle, p, training) } }
        if p == 1 { return try input * 0 }
        let draws = try Tensor.rand(input.shape, dtype: input.dtype, device: input.device, generator: generator)
        let keep = try draws.lt(1 - p).to(dtype: input.dtype)
        return try input * keep * (1 / (1 - p))
    }

    /// Rows of `weight` [vocab, dim] picked by int64 `indices`. The `paddingIndex` row (negative counts from the
    /// end) receives no gradient.
    public static func embedding(_ indices: Tensor, weight: Tensor, paddingIndex: Int? = nil) throws -> Tensor {
        var padding: Int64 = -1  // the engine's "none"
        if let paddingIndex {
            let rows = weight.size(0)
            let resolved = paddingIndex < 0 ? paddingIndex + rows : paddingIndex
            guard (0..<rows).contains(resolved) else {
                throw TorchError.invalidArgument("padding index \(paddingIndex) is outside a table of \(rows) rows")
            }
            padding = Int64(resolved)
        }
        return try Tensor.make { ct_embedding($0, weight.handle, indices.handle, padding) }
    }

    /// Cross-entropy of logits [N, C] against class indices [N] (int64) or class probabilities [N, C] (soft targets).
    public static func crossEntropy(
        logits: Tensor, targets: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean, ignoreIndex: Int = -100,
        labelSmoothing: Double = 0
    ) throws -> Tensor {
        guard (0...1).contains(labelSmoothing) else {
            throw TorchError.invalidArgument("label smoothing \(labelSmoothing) is not in [0, 1]")
        }
        return try Tensor.make {
            ct_cross_entropy(
                $0, logits.handle, targets.handle, weight?.handle, reduction.code, Int64(ignoreIndex), labelSmoothing)
        }
    }

    public static func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try Tensor.make { ct_mse_loss($0, input.handle, target.handle, reduction.code) }
    }

    /// x / max(‖x‖ₚ, eps) along `dimension`.
    public static func normalize(_ input: Tensor, p: Double = 2, dimension: Int = -1, eps: Double = 1e-12) throws -> Tensor {
        let norms = try input.norm(p, dimensions: [dimension], keepDimensions: true).clamped(min: eps)
        return try input / norms
    }

    /// softmax(q·kᵀ/√E + mask)·v for q [..., L, E], k [..., S, E], v [..., S, Ev].
    ///
    /// `mask` is boolean (true = may attend) or additive float, broadcastable to [..., L, S]. libtorch ≥ 2 runs its
    /// fused kernel; 1.x composes the same matmul/softmax calls inside one engine call.
    ///
    /// With attention dropout and a `generator`, the weights' dropout mask comes from the generator, which takes the
    /// composed path (the fused kernel draws from the engine's global generator).
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, dropout: Double = 0, causal: Bool = false,
        generator: Generator? = nil
    ) throws -> Tensor {
        guard dropout > 0, let generator else {
            return try Tensor.make {
                ct_scaled_dot_product_attention($0, query.handle, key.handle, value.handle, mask?.handle, dropout, causal)
            }
        }
        let (length, sourceLength) = (query.size(-2), key.size(-2))
        var scores = try query.matmul(key.transposed(-2, -1)) * (1 / Double(query.size(-1)).squareRoot())
        if causal {
            let rows = try Tensor.arange(length, device: query.device).unsqueezed(1)
            let columns = try Tensor.arange(sourceLength, device: query.device).unsqueezed(0)
            scores = try scores.maskedFill(columns.gt(rows), with: -Double.infinity)
        }
        if let mask {
            scores = mask.dtype == .bool
                ? try scores.maskedFill(mask.logicalNot(), with: -Double.infinity) : try scores + mask
        }
        let weights = try Functional.dropout(
            scores.softmax(dimension: -1), p: dropout, training: true, generator: generator)
        return try weights.matmul(value)
    }
}
