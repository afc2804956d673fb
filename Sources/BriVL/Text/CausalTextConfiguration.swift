import TorchNN

/// The shape of CLIP's text Transformer (OpenAI CLIP, OpenCLIP): token and learned positional embeddings,
/// pre-norm blocks under a causal mask, a final LayerNorm; the text's vector is the state of its last token
/// (end-of-text).
public struct CausalTextConfiguration: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    /// Rows of the positional embedding: the longest text, start and end included (CLIP: 77).
    public var positions: Int
    public var width: Int
    public var layerCount: Int
    public var headCount: Int
    public var feedForwardSize: Int
    /// GELU (OpenCLIP's default) or QuickGELU (OpenAI's weights, OpenCLIP's `-quickgelu` models).
    public var activation: Activation

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case positions
        case width
        case layerCount = "layer_count"
        case headCount = "head_count"
        case feedForwardSize = "feed_forward_size"
        case activation
    }

    public init(
        vocabularySize: Int = 49408, positions: Int = 77, width: Int, layerCount: Int, headCount: Int,
        feedForwardSize: Int? = nil, activation: Activation = .gelu
    ) {
        self.vocabularySize = vocabularySize
        self.positions = positions
        self.width = width
        self.layerCount = layerCount
        self.headCount = headCount
        self.feedForwardSize = feedForwardSize ?? 4 * width
        self.activation = activation
    }

    /// OpenCLIP's ViT-B-32 / RN50 text tower: 12 layers, width 512, 8 heads.
    public static let clipBase = CausalTextConfiguration(width: 512, layerCount: 12, headCount: 8)

    public func validate() throws {
        guard vocabularySize > 0, positions > 1, width > 0, layerCount > 0, feedForwardSize > 0 else {
            throw ModelError.invalidConfiguration(
                "a causal text Transformer needs positive sizes, got vocabulary \(vocabularySize), \(positions) "
                    + "positions, width \(width), \(layerCount) layers, feed-forward \(feedForwardSize)")
        }
        guard headCount > 0, width % headCount == 0 else {
            throw ModelError.invalidConfiguration("width \(width) is not divisible by \(headCount) heads")
        }
    }
}
