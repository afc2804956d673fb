import CTorch

// Moving element data between Swift and the engine.
extension Tensor {
    /// A CPU tensor holding a copy of `values` (one copy, straight into the tensor's storage).
    public convenience init<Element: TensorElement>(_ values: [Element], shape: [Int]) throws {
        let expected = shape.reduce(1, *)
        guard expected == values.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TorchError.invalidArgument("\(values.count) values cannot fill shape \(shape)")
        }
        var out: ct_tensor? = nil
        try values.withUnsafeBytes { bytes in
            try withInt64Buffer(shape) { sizes, rank in
                try check(ct_from_data(&out, bytes.baseAddress, sizes, rank, Element.dtype.code))
            }
        }
        self.init(handle: out!)
    }

    /// A one-dimensional CPU tensor.
    public convenience init<Element: TensorElement>(_ values: [Element]) throws {
        try self.init(values, shape: [values.count])
    }

    /// A zero-dimensional CPU tensor.
    public convenience init<Element: TensorElement>(scalar: Element) throws {
        try self.init([scalar], shape: [])
    }

    /// Wraps memory without copying. `deallocate` runs once when the engine releases the last view of it.
    ///
    /// The memory must stay valid and must not be written by anyone else until then.
    public convenience init(
        wrapping pointer: UnsafeMutableRawPointer, shape: [Int], strides: [Int]? = nil, dtype: DType,
        deallocate: @escaping @Sendable () -> Void
    ) throws {
        if let strides, strides.count != shape.count {
            throw TorchError.invalidArgument("strides \(strides) do not match shape \(shape)")
        }
        // Checked here because libtorch 1.x computes the storage size in a noexcept function and would abort.
        guard shape.allSatisfy({ $0 >= 0 }), (strides ?? []).allSatisfy({ $0 >= 0 }),
            Tensor.viewedByteCount(shape: shape, strides: strides, elementSize: dtype.byteSize) != nil
        else {
            throw TorchError.invalidArgument("cannot wrap memory with shape \(shape) and strides \(strides ?? [])")
        }
        let box = Unmanaged.passRetained(DeallocationBox(deallocate)).toOpaque()
        var out: ct_tensor? = nil
        let status = withInt64Buffer(shape) { sizes, rank in
            withInt64Buffer(strides ?? []) { strideValues, _ in
                ct_from_blob(
                    &out, pointer, sizes, rank, strides == nil ? nil : strideValues, dtype.code,
                    { context in Unmanaged<DeallocationBox>.fromOpaque(context!).takeRetainedValue().run() }, box)
            }
        }
        if status != 0 {
            Unmanaged<DeallocationBox>.fromOpaque(box).release()
            try check(status)
        }
        self.init(handle: out!)
    }

    /// The bytes spanned by a view of `shape` and `strides` (row-major when nil), or nil on overflow.
    static func viewedByteCount(shape: [Int], strides: [Int]?, elementSize: Int) -> Int? {
        if shape.contains(0) { return 0 }
        var lastOffset = 0
        var rowMajorStride = 1
        for index in shape.indices.reversed() {
            let stride = strides?[index] ?? rowMajorStride
            let (extent, overflow) = (shape[index] - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflow2) = lastOffset.addingReportingOverflow(extent)
            let (next, overflow3) = rowMajorStride.multipliedReportingOverflow(by: shape[index])
            if overflow || overflow2 || overflow3 { return nil }
            lastOffset = sum
            rowMajorStride = next
        }
        let (bytes, overflow) = (lastOffset + 1).multipliedReportingOverflow(by: elementSize)
        return overflow ? nil : bytes
    }

    /// The elements in row-major order, converted to `Element`'s dtype if needed (and copied from the device).
    public func toArray<Element: TensorElement>(_ type: Element.Type = Element.self) throws -> [Element] {
        let source = dtype == Element.dtype ? self : try to(dtype: Element.dtype)
        let count = source.count
        return try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            try check(
                ct_copy_to_buffer(
                    source.handle, UnsafeMutableRawPointer(buffer.baseAddress), count * MemoryLayout<Element>.stride))
            initialized = count
        }
    }

    /// The value of a one-element tensor as a Double.
    public func item() throws -> Double {
        var value = 0.0
        try check(ct_item_double(handle, &value))
        return value
    }

    /// The value of a one-element tensor as an Int.
    public func itemInt() throws -> Int {
        var value: Int64 = 0
        try check(ct_item_int64(handle, &value))
        return Int(value)
    }

    /// Whether both tensors have the same shape and elements.
    public func equals(_ other: Tensor) throws -> Bool {
        var result = false
        try check(ct_equal(handle, other.handle, &result))
        return result
    }

    /// Whether |self − other| ≤ atol + rtol·|other| elementwise.
    public func isClose(to other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws -> Bool {
        var result = false
        try check(ct_allclose(handle, other.handle, rtol, atol, &result))
        return result
    }
}

/// Carries a Swift closure through the engine's C deleter.
private final class DeallocationBox {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
