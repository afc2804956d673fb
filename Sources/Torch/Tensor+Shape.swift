import CTorch

// Views, reshapes, joins, splits and indexing.
extension Tensor {
    /// The same elements with a new shape (a view when possible). One dimension may be -1.
    public func reshaped(_ shape: [Int]) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in try Tensor.make { ct_reshape($0, handle, sizes, rank) } }
    }

    public func reshaped(_ shape: Int...) throws -> Tensor { try reshaped(shape) }

    /// A view with a new shape; fails when the layout does not allow one.
    public func view(_ shape: [Int]) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in try Tensor.make { ct_view($0, handle, sizes, rank) } }
    }

    public func permuted(_ dimensions: [Int]) throws -> Tensor {
        try withInt64Buffer(dimensions) { dims, rank in try Tensor.make { ct_permute($0, handle, dims, rank) } }
    }

    public func permuted(_ dimensions: Int...) throws -> Tensor { try permuted(dimensions) }

    public func transposed(_ first: Int, _ second: Int) throws -> Tensor {
        try Tensor.make { ct_transpose($0, handle, Int64(first), Int64(second)) }
    }

    /// The transpose of a matrix (last two dimensions swapped).
    public func transposed() throws -> Tensor { try transposed(-2, -1) }

    /// Broadcasts to `shape` without copying; -1 keeps a dimension.
    public func expanded(to shape: [Int]) throws -> Tensor {
        try withInt64Buffer(shape) { sizes, rank in try Tensor.make { ct_expand($0, handle, sizes, rank) } }
    }

    /// Tiles the tensor `repeats[i]` times along each dimension.
    public func repeated(_ repeats: [Int]) throws -> Tensor {
        try withInt64Buffer(repeats) { values, rank in try Tensor.make { ct_repeat($0, handle, values, rank) } }
    }

    /// Removes every dimension of size one, or only `dimension`.
    public func squeezed(_ dimension: Int? = nil) throws -> Tensor {
        if let dimension {
            return try Tensor.make { ct_squeeze_dim($0, handle, Int64(dimension)) }
        }
        return try Tensor.make { ct_squeeze($0, handle) }
    }

    public func unsqueezed(_ dimension: Int) throws -> Tensor {
        try Tensor.make { ct_unsqueeze($0, handle, Int64(dimension)) }
    }

    public func flattened(from start: Int = 0, through end: Int = -1) throws -> Tensor {
        try Tensor.make { ct_flatten($0, handle, Int64(start), Int64(end)) }
    }

    /// Joins tensors along an existing dimension.
    public static func cat(_ tensors: [Tensor], dimension: Int = 0) throws -> Tensor {
        try withHandles(tensors) { handles in
            try make { ct_cat($0, handles.baseAddress, Int64(handles.count), Int64(dimension)) }
        }
    }

    /// Joins tensors along a new dimension.
    public static func stack(_ tensors: [Tensor], dimension: Int = 0) throws -> Tensor {
        try withHandles(tensors) { handles in
            try make { ct_stack($0, handles.baseAddress, Int64(handles.count), Int64(dimension)) }
        }
    }

    /// Splits into pieces of the given sizes along `dimension`.
    public func split(sizes: [Int], dimension: Int = 0) throws -> [Tensor] {
        try withInt64Buffer(sizes) { values, count in
            try Tensor.makeList(count: sizes.count) {
                ct_split_with_sizes($0, handle, values, count, Int64(dimension))
            }
        }
    }

    /// Splits into at most `chunks` nearly equal pieces along `dimension`.
    public func chunked(_ chunks: Int, dimension: Int = 0) throws -> [Tensor] {
        guard chunks > 0 else { throw TorchError.invalidArgument("chunk count must be positive, got \(chunks)") }
        var produced: Int64 = 0
        let pieces = try Tensor.makeList(count: chunks) {
            ct_chunk($0, &produced, handle, Int64(chunks), Int64(dimension))
        }
        return Array(pieces.prefix(Int(produced)))
    }

    /// `length` elements from `start` along `dimension` (a view).
    public func narrowed(dimension: Int, start: Int, length: Int) throws -> Tensor {
        try Tensor.make { ct_narrow($0, handle, Int64(dimension), Int64(start), Int64(length)) }
    }

    /// Elements `start..<end` by `step` along `dimension` (a view).
    public func sliced(dimension: Int, start: Int, end: Int, step: Int = 1) throws -> Tensor {
        try Tensor.make { ct_slice($0, handle, Int64(dimension), Int64(start), Int64(end), Int64(step)) }
    }

    /// Element `index` along `dimension`, which is removed (a view).
    public func selected(dimension: Int, index: Int) throws -> Tensor {
        try Tensor.make { ct_select($0, handle, Int64(dimension), Int64(index)) }
    }

    /// Element `index` of the first dimension.
    public subscript(_ index: Int) -> Tensor {
        get throws { try selected(dimension: 0, index: index) }
    }

    /// Elements `range` of the first dimension.
    public subscript(_ range: Range<Int>) -> Tensor {
        get throws { try sliced(dimension: 0, start: range.lowerBound, end: range.upperBound) }
    }

    /// Rows (or slices along `dimension`) picked by an int64 index tensor.
    public func indexSelect(dimension: Int, index: Tensor) throws -> Tensor {
        try Tensor.make { ct_index_select($0, handle, Int64(dimension), index.handle) }
    }

    /// out[i][j] = self[i][index[i][j]] for dimension 1, and so on.
    public func gather(dimension: Int, index: Tensor) throws -> Tensor {
        try Tensor.make { ct_gather($0, handle, Int64(dimension), index.handle) }
    }

    /// `value` where `mask` is true (broadcasting), self elsewhere.
    public func maskedFill(_ mask: Tensor, with value: some TensorScalar) throws -> Tensor {
        try Tensor.make { ct_masked_fill($0, handle, mask.handle, value.engineScalar) }
    }

    /// Elementwise choice: `a` where `condition`, `b` elsewhere.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try make { ct_where($0, condition.handle, a.handle, b.handle) }
    }

    /// The lower triangle (elements with column − row ≤ diagonal), zeros elsewhere.
    public func lowerTriangle(diagonal: Int = 0) throws -> Tensor {
        try Tensor.make { ct_tril($0, handle, Int64(diagonal)) }
    }

    public func upperTriangle(diagonal: Int = 0) throws -> Tensor {
        try Tensor.make { ct_triu($0, handle, Int64(diagonal)) }
    }

    /// One-hot encoding of int64 class indices (int64 result with a new last dimension).
    public func oneHot(classes: Int) throws -> Tensor {
        try Tensor.make { ct_one_hot($0, handle, Int64(classes)) }
    }
}

/// Calls `body` with the tensors' handles, keeping the tensors alive throughout.
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafeBufferPointer<ct_tensor?>) throws -> R) rethrows -> R {
    let handles: [ct_tensor?] = tensors.map { $0.handle }
    return try withExtendedLifetime(tensors) {
        try handles.withUnsafeBufferPointer { try body($0) }
    }
}
