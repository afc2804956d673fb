import TorchNN

/// The shape of a CLIP-style Vision Transformer.
public struct VisionTransformerConfiguration: Codable, Sendable, Equatable {
    /// Side of the square input images, in pixels; a multiple of the patch size.
    public var imageSize: Int
    /// Side of the square patches, each of which becomes one token.
    public var patchSize: Int
    /// Token width.
    public var width: Int
    public var layerCount: Int
    public var headCount: Int
    /// Feed-forward width / token width (CLIP: 4).
    public var mlpRatio: Double
    public var inputChannels: Int
    /// The blocks' feed-forward activation: GELU (OpenCLIP's default) or QuickGELU (OpenAI CLIP, Chinese-CLIP).
    public var activation: Activation

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case width
        case layerCount = "layer_count"
        case headCount = "head_count"
        case mlpRatio = "mlp_ratio"
        case inputChannels = "input_channels"
        case activation
    }

    public init(
        imageSize: Int, patchSize: Int, width: Int, layerCount: Int, headCount: Int, mlpRatio: Double = 4,
        inputChannels: Int = 3, activation: Activation = .gelu
    ) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.width = width
        self.layerCount = layerCount
        self.headCount = headCount
        self.mlpRatio = mlpRatio
        self.inputChannels = inputChannels
        self.activation = activation
    }

    /// Files written before the activation was a setting have none: GELU. It is written only when it is not GELU,
    /// so those files are written back unchanged.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try container.decode(Int.self, forKey: .imageSize)
        patchSize = try container.decode(Int.self, forKey: .patchSize)
        width = try container.decode(Int.self, forKey: .width)
        layerCount = try container.decode(Int.self, forKey: .layerCount)
        headCount = try container.decode(Int.self, forKey: .headCount)
        mlpRatio = try container.decode(Double.self, forKey: .mlpRatio)
        inputChannels = try container.decode(Int.self, forKey: .inputChannels)
        activation = try container.decodeIfPresent(Activation.self, forKey: .activation) ?? .gelu
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(imageSize, forKey: .imageSize)
        try container.encode(patchSize, forKey: .patchSize)
        try container.encode(width, forKey: .width)
        try container.encode(layerCount, forKey: .layerCount)
        try container.encode(headCount, forKey: .headCount)
        try container.encode(mlpRatio, forKey: .mlpRatio)
        try container.encode(inputChannels, forKey: .inputChannels)
        if activation != .gelu { try container.encode(activation, forKey: .activation) }
    }

    /// The benchmark tower: 64 px images in 8×8 patches (64 tokens + the class token), width 256, 4 layers, 4 heads.
    public static let tiny = VisionTransformerConfiguration(
        imageSize: 64, patchSize: 8, width: 256, layerCount: 4, headCount: 4)

    /// CLIP / OpenCLIP ViT-B/32: 224 px, 32 px patches (49 tokens + the class token), width 768, 12 layers, 12 heads.
    public static let b32 = VisionTransformerConfiguration(
        imageSize: 224, patchSize: 32, width: 768, layerCount: 12, headCount: 12)

    /// Patches along each side.
    public var gridSize: Int { imageSize / patchSize }

    /// Tokens out: the class token followed by the patches in row-major order.
    public var tokenCount: Int { 1 + gridSize * gridSize }

    /// Hidden width of each block's feed-forward network (OpenCLIP: int(width · mlp_ratio)).
    public var feedForwardSize: Int { Int(Double(width) * mlpRatio) }

    /// Throws ``ModelError/invalidConfiguration(_:)`` naming the first inconsistent setting.
    public func validate() throws {
        func fail(_ message: String) -> ModelError { .invalidConfiguration("Vision Transformer: \(message)") }
        guard imageSize > 0, patchSize > 0 else {
            throw fail("image size \(imageSize) and patch size \(patchSize) must be positive")
        }
        guard imageSize % patchSize == 0 else {
            throw fail("image size \(imageSize) is not a multiple of the patch size \(patchSize)")
        }
        guard width > 0, layerCount > 0, inputChannels > 0 else {
            throw fail("width \(width), layers \(layerCount) and input channels \(inputChannels) must be positive")
        }
        guard headCount > 0, width % headCount == 0 else {
            throw fail("width \(width) is not divisible into \(headCount) heads")
        }
        guard mlpRatio > 0, feedForwardSize > 0 else { throw fail("MLP ratio \(mlpRatio) gives no feed-forward width") }
    }
}
