import Torch

/// Multi-head attention with separate query/key/value/output projections (the HF BERT layout).
public final class MultiHeadAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let output: Linear
    public let headCount: Int
    public let dropout: Double

    public init(dimension: Int, heads: Int, bias: Bool = true, dropout: Double = 0, generator: Generator? = nil) throws {
        guard heads > 0, dimension % heads == 0 else {
            throw ModuleError.invalidConfiguration("dimension \(dimension) is not divisible by \(heads) heads")
        }
        query = try Linear(dimension, dimension, bias: bias, generator: generator)
        key = try Linear(dimension, dimension, bias: bias, generator: generator)
        value = try Linear(dimension, dimension, bias: bias, generator: generator)
        output = try Linear(dimension, dimension, bias: bias, generator: generator)
        headCount = heads
        self.dropout = dropout
    }

    /// - Parameters:
    ///   - queries: [batch, L, dimension]
    ///   - keys: [batch, S, dimension]; the queries themselves (self-attention) when nil
    ///   - values: [batch, S, dimension]; the keys when nil
    ///   - keyPaddingMask: [batch, S] bool, true where a key is padding and must be ignored
    ///   - attentionMask: bool (true = may attend) or additive float, broadcastable to [batch, heads, L, S]
    /// - Returns: [batch, L, dimension]
    public func callAsFunction(
        _ queries: Tensor, keys: Tensor? = nil, values: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        attentionMask: Tensor? = nil, causal: Bool = false
    ) throws -> Tensor {
        let keys = keys ?? queries
        let values = values ?? keys
        let q = try splitHeads(query(queries))
        let k = try splitHeads(key(keys))
        let v = try splitHeads(value(values))
        var mask = attentionMask
        if let keyPaddingMask {
            // [batch, S] padding → [batch, 1, 1, S] "may attend"
            let keep = try keyPaddingMask.logicalNot().unsqueezed(1).unsqueezed(1)
            if let existing = mask {
                mask = existing.dtype == .bool ? try existing.logicalAnd(keep) : try existing.maskedFill(keep.logicalNot(), with: -Double.infinity)
            } else {
                mask = keep
            }
        }
        let attended = try Functional.scaledDotProductAttention(
            query: q, key: k, value: v, mask: mask, dropout: training ? dropout : 0, causal: causal,
            generator: dropoutGenerator)
        return try output(mergeHeads(attended))
    }

    /// [batch, length, dimension] → [batch, heads, length, dimension / heads]
    private func splitHeads(_ x: Tensor) throws -> Tensor {
        let shape = x.shape
        return try x.reshaped([shape[0], shape[1], headCount, shape[2] / headCount]).transposed(1, 2)
    }

    /// [batch, heads, length, headDimension] → [batch, length, heads · headDimension]
    private func mergeHeads(_ x: Tensor) throws -> Tensor {
        let shape = x.shape
        return try x.transposed(1, 2).reshaped([shape[0], shape[2], shape[1] * shape[3]])
    }
}
