import Torch
import TorchNN

/// Settings of the head both BriVL towers end with.
public struct EmbeddingHeadConfiguration: Codable, Sendable, Equatable {
    /// Width of the incoming vectors (regions or tokens).
    public var inputSize: Int
    /// Transformer layers over the set of vectors (BriVL: 4).
    public var layerCount: Int
    /// Attention heads (BriVL: 4).
    public var headCount: Int
    /// Feed-forward width of those layers.
    public var feedForwardSize: Int
    /// Hidden and output widths of the projection MLP (BriVL: 2048, 2048); the last is the joint space.
    public var projectionSizes: [Int]
    public var dropout: Double

    enum CodingKeys: String, CodingKey {
        case inputSize = "input_size"
        case layerCount = "layer_count"
        case headCount = "head_count"
        case feedForwardSize = "feed_forward_size"
        case projectionSizes = "projection_sizes"
        case dropout
    }

    public init(
        inputSize: Int, layerCount: Int = 4, headCount: Int = 4, feedForwardSize: Int? = nil,
        projectionSizes: [Int] = [2048, 2048], dropout: Double = 0
    ) {
        self.inputSize = inputSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.feedForwardSize = feedForwardSize ?? 4 * inputSize
        self.projectionSizes = projectionSizes
        self.dropout = dropout
    }

    /// The joint embedding width.
    public var outputSize: Int { projectionSizes.last ?? inputSize }
}

/// The end of a BriVL tower: a small Transformer over the tower's set of vectors (image regions or text tokens),
/// a masked mean over the set, and an MLP projection into the joint space, L2-normalised.
public final class EmbeddingHead: Module, TowerHead {
    public let encoder: TransformerEncoder
    public let projection: MLP

    public init(_ configuration: EmbeddingHeadConfiguration, generator: Generator? = nil) throws {
        guard !configuration.projectionSizes.isEmpty else {
            throw ModelError.invalidConfiguration("the projection needs at least one layer size")
        }
        encoder = try TransformerEncoder(
            layerCount: configuration.layerCount, dimension: configuration.inputSize, heads: configuration.headCount,
            feedForwardDimension: configuration.feedForwardSize, dropout: configuration.dropout, activation: .gelu,
            normFirst: true, generator: generator)
        projection = try MLP(
            sizes: [configuration.inputSize] + configuration.projectionSizes, activation: .gelu, generator: generator)
    }

    /// - Parameters:
    ///   - vectors: [batch, count, inputSize]
    ///   - paddingMask: [batch, count] bool, true at padding positions (nil when every position is real)
    /// - Returns: [batch, outputSize], L2-normalised
    public func callAsFunction(_ vectors: Tensor, paddingMask: Tensor?) throws -> Tensor {
        let encoded = try encoder(vectors, keyPaddingMask: paddingMask)
        let pooled: Tensor
        if let paddingMask {
            let weights = try paddingMask.logicalNot().to(dtype: encoded.dtype).unsqueezed(-1)
            pooled = try (encoded * weights).sum(dimension: 1) / weights.sum(dimension: 1).clamped(min: 1)
        } else {
            pooled = try encoded.mean(dimension: 1)
        }
        return try Functional.normalize(projection(pooled), dimension: 1)
    }
}
