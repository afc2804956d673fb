import CTorch

// Broadcasting arithmetic, comparisons and matrix products. Operators throw, so write `try a + b * c`.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try make { ct_add($0, lhs.handle, rhs.handle) } }
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try make { ct_sub($0, lhs.handle, rhs.handle) } }
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try make { ct_mul($0, lhs.handle, rhs.handle) } }
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try make { ct_div($0, lhs.handle, rhs.handle) } }

    public static func + (lhs: Tensor, rhs: some TensorScalar) throws -> Tensor {
        try make { ct_add_scalar($0, lhs.handle, rhs.engineScalar) }
    }
    public static func - (lhs: Tensor, rhs: some TensorScalar) throws -> Tensor {
        try make { ct_sub_scalar($0, lhs.handle, rhs.engineScalar) }
    }
    public static func * (lhs: Tensor, rhs: some TensorScalar) throws -> Tensor {
        try make { ct_mul_scalar($0, lhs.handle, rhs.engineScalar) }
    }
    public static func / (lhs: Tensor, rhs: some TensorScalar) throws -> Tensor {
        try make { ct_div_scalar($0, lhs.handle, rhs.engineScalar) }
    }
    public static func + (lhs: some TensorScalar, rhs: Tensor) throws -> Tensor { try rhs + lhs }
    public static func * (lhs: some TensorScalar, rhs: Tensor) throws -> Tensor { try rhs * lhs }
    public static func - (lhs: some TensorScalar, rhs: Tensor) throws -> Tensor {
        try make { ct_rsub_scalar($0, rhs.handle, lhs.engineScalar) }
    }
    public static func / (lhs: some TensorScalar, rhs: Tensor) throws -> Tensor {
        try rhs.reciprocal() * lhs
    }

    public static prefix func - (operand: Tensor) throws -> Tensor { try make { ct_neg($0, operand.handle) } }

    /// Elementwise power with a tensor of exponents.
    public func pow(_ exponent: Tensor) throws -> Tensor { try Tensor.make { ct_pow($0, handle, exponent.handle) } }

    public func pow(_ exponent: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_pow_scalar($0, handle, exponent.engineScalar) }
    }

    public func maximum(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_maximum($0, handle, other.handle) } }
    public func minimum(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_minimum($0, handle, other.handle) } }

    /// Limits every element to [min, max]; either bound may be omitted. Integer bounds keep integer tensors integral.
    public func clamped(min: (any TensorScalar)? = nil, max: (any TensorScalar)? = nil) throws -> Tensor {
        let zero = 0.engineScalar
        return try Tensor.make {
            ct_clamp($0, handle, min != nil, min?.engineScalar ?? zero, max != nil, max?.engineScalar ?? zero)
        }
    }

    // MARK: Comparisons (bool results)

    public func eq(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_eq($0, handle, other.handle) } }
    public func ne(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_ne($0, handle, other.handle) } }
    public func lt(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_lt($0, handle, other.handle) } }
    public func le(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_le($0, handle, other.handle) } }
    public func gt(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_gt($0, handle, other.handle) } }
    public func ge(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_ge($0, handle, other.handle) } }
    public func eq(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_eq_scalar($0, handle, other.engineScalar) }
    }
    public func ne(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_ne_scalar($0, handle, other.engineScalar) }
    }
    public func lt(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_lt_scalar($0, handle, other.engineScalar) }
    }
    public func le(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_le_scalar($0, handle, other.engineScalar) }
    }
    public func gt(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_gt_scalar($0, handle, other.engineScalar) }
    }
    public func ge(_ other: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_ge_scalar($0, handle, other.engineScalar) }
    }
    public func logicalAnd(_ other: Tensor) throws -> Tensor {
        try Tensor.make { ct_logical_and($0, handle, other.handle) }
    }
    public func logicalOr(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_logical_or($0, handle, other.handle) } }
    public func logicalNot() throws -> Tensor { try Tensor.make { ct_logical_not($0, handle) } }

    // MARK: Products

    /// Matrix product with NumPy broadcasting rules (vectors, matrices, batches).
    public func matmul(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_matmul($0, handle, other.handle) } }

    /// Strict 2-D matrix product.
    public func mm(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_mm($0, handle, other.handle) } }

    /// Batched matrix product of [B, N, K] and [B, K, M].
    public func bmm(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_bmm($0, handle, other.handle) } }
}

// MARK: - In-place updates (optimizers, buffers). On leaves that require grad, call inside `withNoGrad`.

extension Tensor {
    /// self += alpha · other
    public func addInPlace(_ other: Tensor, alpha: Double = 1) throws {
        try check(ct_add_(handle, other.handle, alpha.engineScalar))
    }

    public func addInPlace(_ value: some TensorScalar) throws { try check(ct_add_scalar_(handle, value.engineScalar)) }
    public func multiplyInPlace(_ other: Tensor) throws { try check(ct_mul_(handle, other.handle)) }
    public func multiplyInPlace(_ value: some TensorScalar) throws {
        try check(ct_mul_scalar_(handle, value.engineScalar))
    }
    public func divideInPlace(_ other: Tensor) throws { try check(ct_div_(handle, other.handle)) }

    /// self += value · a · b
    public func addProductInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(ct_addcmul_(handle, a.handle, b.handle, value.engineScalar))
    }

    /// self += value · a / b
    public func addQuotientInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) throws {
        try check(ct_addcdiv_(handle, a.handle, b.handle, value.engineScalar))
    }

    /// self += weight · (end − self)
    public func lerpInPlace(towards end: Tensor, weight: Double) throws {
        try check(ct_lerp_(handle, end.handle, weight.engineScalar))
    }

    /// Copies `source`'s values (broadcast, converted) into self.
    public func copyInPlace(from source: Tensor) throws { try check(ct_copy_(handle, source.handle)) }

    public func zeroInPlace() throws { try check(ct_zero_(handle)) }

    public func fillInPlace(_ value: some TensorScalar) throws { try check(ct_fill_(handle, value.engineScalar)) }

    public func clampInPlace(min: (any TensorScalar)? = nil, max: (any TensorScalar)? = nil) throws {
        let zero = 0.engineScalar
        try check(ct_clamp_(handle, min != nil, min?.engineScalar ?? zero, max != nil, max?.engineScalar ?? zero))
    }

    /// Fills with uniform samples in [low, high).
    public func uniformInPlace(_ low: Double, _ high: Double, generator: Generator? = nil) throws {
        try check(ct_uniform_(handle, low, high, generator?.handle))
    }

    /// Fills with normal samples.
    public func normalInPlace(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
        try check(ct_normal_(handle, mean, std, generator?.handle))
    }
}
