import Torch
import TorchNN

/// CLIP's text Transformer: token embeddings plus learned positions, pre-norm blocks where each token attends
/// only to itself and the tokens before it, and a final LayerNorm (CLIP's `ln_final`, here the encoder's final
/// norm). Padding after the end-of-text token cannot change the states up to it, so no padding mask is needed.
///
/// The output is every token's state; the tower's head reads the last real one.
public final class CausalTextTransformer: Module {
    /// [vocabularySize, width] (CLIP's `token_embedding`).
    public let tokenEmbedding: Embedding
    /// [positions, width]
    public let positionalEmbedding: Tensor
    public let transformer: TransformerEncoder
    public let configuration: CausalTextConfiguration

    /// Initialisation as CLIP's: token embeddings N(0, 0.02²), positions N(0, 0.01²), blocks as the ViT's.
    public init(_ configuration: CausalTextConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        tokenEmbedding = try Embedding(
            configuration.vocabularySize, configuration.width, std: 0.02, generator: generator)
        positionalEmbedding = try Initialization.normal(
            [configuration.positions, configuration.width], std: 0.01, generator: generator)
        transformer = try TransformerEncoder(
            layerCount: configuration.layerCount, dimension: configuration.width, heads: configuration.headCount,
            feedForwardDimension: configuration.feedForwardSize, activation: configuration.activation,
            normFirst: true, generator: generator)
        super.init()
        if Initialization.fillsValues { try transformer.initializeAsCLIP(generator: generator) }
    }

    /// - Parameter tokenIDs: [batch, length] int64, length ≤ positions
    /// - Returns: [batch, length, width]
    public func callAsFunction(_ tokenIDs: Tensor) throws -> Tensor {
        guard tokenIDs.rank == 2 else {
            throw ModelError.invalidInput("token ids must be [batch, length], got \(tokenIDs.shape)")
        }
        return try callAsFunction(wordVectors: tokenEmbedding(tokenIDs))
    }

    /// The same from token vectors already looked up ([batch, length, width]): the entry point for gradients with
    /// respect to tokens.
    public func callAsFunction(wordVectors: Tensor) throws -> Tensor {
        let (length, width) = (wordVectors.size(1), configuration.width)
        guard wordVectors.rank == 3, wordVectors.size(2) == width else {
            throw ModelError.invalidInput("token vectors must be [batch, length, \(width)], got \(wordVectors.shape)")
        }
        guard length <= configuration.positions else {
            throw ModelError.invalidInput("\(length) tokens exceed the \(configuration.positions) positions")
        }
        let positions = try positionalEmbedding.narrowed(dimension: 0, start: 0, length: length)
        return try transformer(wordVectors + positions, causal: true)
    }
}

extension TransformerEncoder {
    /// CLIP's initialisation of pre-norm blocks of width w over L layers: query/key/value weights N(0, 1/w),
    /// attention-output and second MLP weights N(0, 1/(w·2L)) (their sum over the residual stream of 2L branches
    /// keeps unit scale), first MLP weights N(0, 1/(2w)), attention biases zero.
    func initializeAsCLIP(generator: Generator?) throws {
        guard let width = layers.first?.linear1.weight.size(1) else { return }
        let attentionStd = 1 / Double(width).squareRoot()
        let residualOutputStd = attentionStd / Double(2 * layers.count).squareRoot()
        let feedForwardStd = 1 / Double(2 * width).squareRoot()
        try withNoGrad {
            for layer in layers {
                let attention = layer.selfAttention
                for projection in [attention.query, attention.key, attention.value] {
                    try projection.weight.normalInPlace(std: attentionStd, generator: generator)
                }
                try attention.output.weight.normalInPlace(std: residualOutputStd, generator: generator)
                for projection in [attention.query, attention.key, attention.value, attention.output] {
                    try projection.bias?.zeroInPlace()
                }
                try layer.linear1.weight.normalInPlace(std: feedForwardStd, generator: generator)
                try layer.linear2.weight.normalInPlace(std: residualOutputStd, generator: generator)
            }
        }
    }
}
