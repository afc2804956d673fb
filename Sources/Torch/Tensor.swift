import CTorch

/// An n-dimensional array on a device, with autograd.
///
/// A `Tensor` owns one engine handle and releases it in `deinit`. Several `Tensor`s may view the same storage
/// (views, `reshape`, `detach`), exactly as in libtorch. Every operation that can fail throws ``TorchError``.
public final class Tensor: @unchecked Sendable {
    /// The engine handle. Borrowed by shim calls; released with the object.
    public let handle: ct_tensor

    /// Takes ownership of a handle returned by the shim.
    public init(handle: ct_tensor) {
        self.handle = handle
    }

    deinit {
        ct_free(handle)
    }

    /// Runs a shim call that writes one new tensor and wraps the result.
    @inline(__always)
    static func make(_ call: (UnsafeMutablePointer<ct_tensor?>) -> ct_status) throws -> Tensor {
        var out: ct_tensor? = nil
        try check(call(&out))
        guard let handle = out else { throw TorchError.engine("the engine returned no tensor") }
        return Tensor(handle: handle)
    }

    /// Runs a shim call that writes two new tensors (values and indices, for example).
    static func makePair(
        _ call: (UnsafeMutablePointer<ct_tensor?>, UnsafeMutablePointer<ct_tensor?>) -> ct_status
    ) throws -> (Tensor, Tensor) {
        var first: ct_tensor? = nil
        var second: ct_tensor? = nil
        try check(call(&first, &second))
        guard let a = first, let b = second else { throw TorchError.engine("the engine returned no tensor") }
        return (Tensor(handle: a), Tensor(handle: b))
    }

    /// Runs a shim call that writes `count` new tensors.
    static func makeList(count: Int, _ call: (UnsafeMutablePointer<ct_tensor?>) -> ct_status) throws -> [Tensor] {
        var outs = [ct_tensor?](repeating: nil, count: count)
        try check(outs.withUnsafeMutableBufferPointer { call($0.baseAddress!) })
        return outs.compactMap { $0.map(Tensor.init(handle:)) }
    }

    // MARK: - Metadata

    /// The number of dimensions.
    public var rank: Int { Int(ct_ndim(handle)) }

    /// The size of each dimension.
    public var shape: [Int] {
        var sizes = [Int64](repeating: 0, count: rank)
        sizes.withUnsafeMutableBufferPointer { ct_sizes(handle, $0.baseAddress) }
        return sizes.map(Int.init)
    }

    /// Element strides of each dimension.
    public var strides: [Int] {
        var values = [Int64](repeating: 0, count: rank)
        values.withUnsafeMutableBufferPointer { ct_strides(handle, $0.baseAddress) }
        return values.map(Int.init)
    }

    /// The size of one dimension; negative indices count from the end.
    public func size(_ dimension: Int) -> Int {
        let sizes = shape
        let index = dimension < 0 ? dimension + sizes.count : dimension
        precondition(sizes.indices.contains(index), "dimension \(dimension) is out of range for shape \(sizes)")
        return sizes[index]
    }

    /// The number of elements.
    public var count: Int { Int(ct_numel(handle)) }

    public var dtype: DType { DType(code: ct_get_dtype(handle)) }

    public var device: Device {
        ct_get_device_type(handle) == CT_CUDA ? .cuda(Int(ct_get_device_index(handle))) : .cpu
    }

    public var isContiguous: Bool { ct_is_contiguous(handle) }

    /// Whether autograd records operations on this tensor.
    public var requiresGrad: Bool { ct_requires_grad(handle) }

    /// Whether this tensor was created by the user rather than by a recorded operation.
    public var isLeaf: Bool { ct_is_leaf(handle) }

    /// Turns gradient recording on or off for this leaf tensor, in place, and returns it.
    @discardableResult
    public func requiringGrad(_ requiresGrad: Bool = true) throws -> Tensor {
        try check(ct_set_requires_grad(handle, requiresGrad))
        return self
    }

    /// A new handle to the same tensor (same storage, same autograd identity).
    public func alias() throws -> Tensor {
        try Tensor.make { ct_shallow_clone($0, handle) }
    }
}

// MARK: - Creation

extension Tensor {
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make { ct_empty($0, sizes, rank, dtype.code, device.code, Int64(device.index)) }
        }
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make { ct_zeros($0, sizes, rank, dtype.code, device.code, Int64(device.index)) }
        }
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make { ct_ones($0, sizes, rank, dtype.code, device.code, Int64(device.index)) }
        }
    }

    public static func full(
        _ shape: [Int], _ value: some TensorScalar, dtype: DType = .float32, device: Device = .cpu
    ) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make { ct_full($0, sizes, rank, value.engineScalar, dtype.code, device.code, Int64(device.index)) }
        }
    }

    /// Values from `start` up to (not including) `end` by `step`; int64 when all three are whole numbers and no
    /// dtype is given, float32 otherwise.
    public static func arange(
        _ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType? = nil, device: Device = .cpu
    ) throws -> Tensor {
        let whole = [start, end, step].allSatisfy { $0 == $0.rounded() }
        let dtype = dtype ?? (whole ? .int64 : .float32)
        return try make {
            ct_arange(
                $0, start.engineScalar, end.engineScalar, step.engineScalar, dtype.code, device.code,
                Int64(device.index))
        }
    }

    /// `0..<count` as int64.
    public static func arange(_ count: Int, device: Device = .cpu) throws -> Tensor {
        try make {
            ct_arange($0, 0.engineScalar, count.engineScalar, 1.engineScalar, CT_INT64, device.code, Int64(device.index))
        }
    }

    /// Uniform samples in [0, 1). With a generator the values depend only on its seed, not on the device.
    public static func rand(
        _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil
    ) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make {
                ct_rand($0, sizes, rank, dtype.code, device.code, Int64(device.index), generator?.handle)
            }
        }
    }

    /// Standard normal samples. With a generator the values depend only on its seed, not on the device.
    public static func randn(
        _ shape: [Int], dtype: DType = .float32, device: Device = .cpu, generator: Generator? = nil
    ) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make {
                ct_randn($0, sizes, rank, dtype.code, device.code, Int64(device.index), generator?.handle)
            }
        }
    }

    /// Integers uniformly drawn from `range`.
    public static func randint(
        _ range: Range<Int>, shape: [Int], dtype: DType = .int64, device: Device = .cpu, generator: Generator? = nil
    ) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in
            try make {
                ct_randint(
                    $0, Int64(range.lowerBound), Int64(range.upperBound), sizes, rank, dtype.code, device.code,
                    Int64(device.index), generator?.handle)
            }
        }
    }

    /// A random permutation of `0..<count`.
    public static func randperm(_ count: Int, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
        try make { ct_randperm($0, Int64(count), device.code, Int64(device.index), generator?.handle) }
    }
}

// MARK: - Conversion

extension Tensor {
    /// Moves and/or converts; returns `self`'s storage when nothing changes unless `copy` is set.
    public func to(device: Device? = nil, dtype: DType? = nil, copy: Bool = false) throws -> Tensor {
        let target = device ?? self.device
        let type = dtype ?? self.dtype
        return try Tensor.make { ct_to($0, handle, target.code, Int64(target.index), type.code, copy) }
    }

    public func to(_ dtype: DType) throws -> Tensor { try to(dtype: dtype) }

    public func contiguous() throws -> Tensor { try Tensor.make { ct_contiguous($0, handle) } }

    /// A copy with its own storage that stays in the autograd graph.
    public func clone() throws -> Tensor { try Tensor.make { ct_clone($0, handle) } }

    /// The same values, cut from the autograd graph.
    public func detach() throws -> Tensor { try Tensor.make { ct_detach($0, handle) } }

    /// Makes this tensor use `source`'s data (which may live on another device or have another dtype) while
    /// staying the same object for autograd and for everyone holding it, e.g. a module's parameters.
    public func replaceData(with source: Tensor) throws { try check(ct_set_data(handle, source.handle)) }
}
