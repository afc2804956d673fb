import CTorch

// Elementwise functions and reductions.
extension Tensor {
    public func abs() throws -> Tensor { try Tensor.make { ct_abs($0, handle) } }
    public func sign() throws -> Tensor { try Tensor.make { ct_sign($0, handle) } }
    public func exp() throws -> Tensor { try Tensor.make { ct_exp($0, handle) } }
    public func log() throws -> Tensor { try Tensor.make { ct_log($0, handle) } }
    public func log1p() throws -> Tensor { try Tensor.make { ct_log1p($0, handle) } }
    public func sqrt() throws -> Tensor { try Tensor.make { ct_sqrt($0, handle) } }
    public func rsqrt() throws -> Tensor { try Tensor.make { ct_rsqrt($0, handle) } }
    public func reciprocal() throws -> Tensor { try Tensor.make { ct_reciprocal($0, handle) } }
    public func sin() throws -> Tensor { try Tensor.make { ct_sin($0, handle) } }
    public func cos() throws -> Tensor { try Tensor.make { ct_cos($0, handle) } }
    public func floor() throws -> Tensor { try Tensor.make { ct_floor($0, handle) } }
    public func erf() throws -> Tensor { try Tensor.make { ct_erf($0, handle) } }
    public func relu() throws -> Tensor { try Tensor.make { ct_relu($0, handle) } }
    public func sigmoid() throws -> Tensor { try Tensor.make { ct_sigmoid($0, handle) } }
    public func tanh() throws -> Tensor { try Tensor.make { ct_tanh($0, handle) } }
    public func silu() throws -> Tensor { try Tensor.make { ct_silu($0, handle) } }

    /// GELU, exact (erf) by default or with the tanh approximation.
    public func gelu(approximateWithTanh: Bool = false) throws -> Tensor {
        try Tensor.make { ct_gelu($0, handle, approximateWithTanh) }
    }

    public func softmax(dimension: Int = -1) throws -> Tensor {
        try Tensor.make { ct_softmax($0, handle, Int64(dimension)) }
    }

    public func logSoftmax(dimension: Int = -1) throws -> Tensor {
        try Tensor.make { ct_log_softmax($0, handle, Int64(dimension)) }
    }

    // MARK: Reductions

    /// The sum of all elements, or over `dimensions`.
    public func sum(dimensions: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        guard let dimensions else { return try Tensor.make { ct_sum($0, handle) } }
        return try withInt64Buffer(dimensions) { dims, count in
            try Tensor.make { ct_sum_dims($0, handle, dims, count, keepDimensions) }
        }
    }

    public func sum(dimension: Int, keepDimensions: Bool = false) throws -> Tensor {
        try sum(dimensions: [dimension], keepDimensions: keepDimensions)
    }

    /// The mean of all elements, or over `dimensions`.
    public func mean(dimensions: [Int]? = nil, keepDimensions: Bool = false) throws -> Tensor {
        guard let dimensions else { return try Tensor.make { ct_mean($0, handle) } }
        return try withInt64Buffer(dimensions) { dims, count in
            try Tensor.make { ct_mean_dims($0, handle, dims, count, keepDimensions) }
        }
    }

    public func mean(dimension: Int, keepDimensions: Bool = false) throws -> Tensor {
        try mean(dimensions: [dimension], keepDimensions: keepDimensions)
    }

    /// Variance over `dimensions` (Bessel-corrected when `unbiased`).
    public func variance(dimensions: [Int], unbiased: Bool = true, keepDimensions: Bool = false) throws -> Tensor {
        try withInt64Buffer(dimensions) { dims, count in
            try Tensor.make { ct_var_dims($0, handle, dims, count, unbiased, keepDimensions) }
        }
    }

    /// The largest element.
    public func max() throws -> Tensor { try Tensor.make { ct_max($0, handle) } }

    /// The smallest element.
    public func min() throws -> Tensor { try Tensor.make { ct_min($0, handle) } }

    /// Largest values along `dimension` and where they are.
    public func max(dimension: Int, keepDimensions: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try Tensor.makePair { ct_max_dim($0, $1, handle, Int64(dimension), keepDimensions) }
        return (values, indices)
    }

    public func min(dimension: Int, keepDimensions: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try Tensor.makePair { ct_min_dim($0, $1, handle, Int64(dimension), keepDimensions) }
        return (values, indices)
    }

    public func argmax(dimension: Int, keepDimensions: Bool = false) throws -> Tensor {
        try Tensor.make { ct_argmax($0, handle, Int64(dimension), keepDimensions) }
    }

    public func argmin(dimension: Int, keepDimensions: Bool = false) throws -> Tensor {
        try Tensor.make { ct_argmin($0, handle, Int64(dimension), keepDimensions) }
    }

    /// The `k` largest (or smallest) elements along `dimension`, sorted.
    public func topK(
        _ k: Int, dimension: Int = -1, largest: Bool = true, sorted: Bool = true
    ) throws -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try Tensor.makePair {
            ct_topk($0, $1, handle, Int64(k), Int64(dimension), largest, sorted)
        }
        return (values, indices)
    }

    /// log Σ exp over `dimensions`, computed stably.
    public func logSumExp(dimensions: [Int], keepDimensions: Bool = false) throws -> Tensor {
        try withInt64Buffer(dimensions) { dims, count in
            try Tensor.make { ct_logsumexp($0, handle, dims, count, keepDimensions) }
        }
    }

    /// The p-norm of all elements, or over `dimensions`.
    public func norm(_ p: Double = 2, dimensions: [Int] = [], keepDimensions: Bool = false) throws -> Tensor {
        // Over all elements with kept dimensions is the same as naming every dimension.
        let dimensions = dimensions.isEmpty && keepDimensions ? Array(0..<rank) : dimensions
        return try withInt64Buffer(dimensions) { dims, count in
            try Tensor.make { ct_norm($0, handle, p, dims, count, keepDimensions) }
        }
    }

    /// Whether every element is true (non-zero), as a bool tensor.
    public func all() throws -> Tensor { try Tensor.make { ct_all($0, handle) } }

    /// Whether any element is true (non-zero), as a bool tensor.
    public func any() throws -> Tensor { try Tensor.make { ct_any($0, handle) } }
}
