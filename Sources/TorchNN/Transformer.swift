import Torch

/// One Transformer encoder block: self-attention and a feed-forward network, each with a residual connection.
///
/// `normFirst` selects pre-norm (x + f(norm(x)), ViT/CLIP) or post-norm (norm(x + f(x)), BERT and the original).
public final class TransformerEncoderLayer: Module {
    public let selfAttention: MultiHeadAttention
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let linear1: Linear
    public let linear2: Linear
    public let activation: Activation
    public let dropout: Dropout?
    public let normFirst: Bool

    public init(
        dimension: Int, heads: Int, feedForwardDimension: Int, dropout: Double = 0, activation: Activation = .gelu,
        normFirst: Bool = true, layerNormEps: Double = 1e-5, generator: Generator? = nil
    ) throws {
        selfAttention = try MultiHeadAttention(
            dimension: dimension, heads: heads, dropout: dropout, generator: generator)
        norm1 = try LayerNorm(dimension, eps: layerNormEps)
        norm2 = try LayerNorm(dimension, eps: layerNormEps)
        linear1 = try Linear(dimension, feedForwardDimension, generator: generator)
        linear2 = try Linear(feedForwardDimension, dimension, generator: generator)
        self.activation = activation
        self.dropout = dropout > 0 ? try Dropout(dropout) : nil
        self.normFirst = normFirst
    }

    /// - Parameters:
    ///   - input: [batch, length, dimension]
    ///   - keyPaddingMask: [batch, length] bool, true at padding positions
    ///   - causal: whether each position attends only to itself and the positions before it
    /// - Returns: [batch, length, dimension]
    public func callAsFunction(_ input: Tensor, keyPaddingMask: Tensor? = nil, causal: Bool = false) throws -> Tensor {
        if normFirst {
            let attended = try input
                + regularize(selfAttention(norm1(input), keyPaddingMask: keyPaddingMask, causal: causal))
            return try attended + regularize(feedForward(norm2(attended)))
        }
        let attended = try norm1(
            input + regularize(selfAttention(input, keyPaddingMask: keyPaddingMask, causal: causal)))
        return try norm2(attended + regularize(feedForward(attended)))
    }

    private func feedForward(_ x: Tensor) throws -> Tensor {
        var hidden = try activation(linear1(x))
        if let dropout { hidden = try dropout(hidden) }
        return try linear2(hidden)
    }

    private func regularize(_ x: Tensor) throws -> Tensor {
        guard let dropout else { return x }
        return try dropout(x)
    }
}

/// A stack of encoder layers with an optional final norm (pre-norm stacks usually end with one).
public final class TransformerEncoder: Module {
    public let layers: [TransformerEncoderLayer]
    public let finalNorm: LayerNorm?

    public init(
        layerCount: Int, dimension: Int, heads: Int, feedForwardDimension: Int, dropout: Double = 0,
        activation: Activation = .gelu, normFirst: Bool = true, layerNormEps: Double = 1e-5,
        generator: Generator? = nil
    ) throws {
        layers = try (0..<layerCount).map { _ in
            try TransformerEncoderLayer(
                dimension: dimension, heads: heads, feedForwardDimension: feedForwardDimension, dropout: dropout,
                activation: activation, normFirst: normFirst, layerNormEps: layerNormEps, generator: generator)
        }
        finalNorm = normFirst ? try LayerNorm(dimension, eps: layerNormEps) : nil
    }

    /// - Parameters:
    ///   - input: [batch, length, dimension]
    ///   - keyPaddingMask: [batch, length] bool, true at padding positions
    ///   - causal: whether each position attends only to itself and the positions before it
    public func callAsFunction(_ input: Tensor, keyPaddingMask: Tensor? = nil, causal: Bool = false) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer(x, keyPaddingMask: keyPaddingMask, causal: causal) }
        if let finalNorm { x = try finalNorm(x) }
        return x
    }
}
