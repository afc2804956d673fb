import Torch
import TorchNN

/// A CLIP/OpenCLIP-style Vision Transformer image tower: non-overlapping patches embedded by a bias-free convolution,
/// a learnable class token in front, learnable positional embeddings, a LayerNorm before the blocks (CLIP's
/// `ln_pre`), pre-norm Transformer blocks with GELU or QuickGELU, and a final LayerNorm (CLIP's `ln_post`, here the encoder's
/// final norm, applied to every token).
///
/// The output is every token, so the caller chooses the class token or a head over all of them (BriVL's embedding
/// head takes a set of vectors).
public final class VisionTransformer: Module, UnaryLayer {
    /// [width, inputChannels, patch, patch] with kernel = stride = patch (CLIP's `conv1`).
    public let patchEmbedding: Conv2d
    /// [width]
    public let classEmbedding: Tensor
    /// [tokenCount, width]
    public let positionalEmbedding: Tensor
    public let preNorm: LayerNorm
    public let transformer: TransformerEncoder
    public let configuration: VisionTransformerConfiguration

    public override class var checkpointKeys: [String: String] { ["patchEmbedding": "conv1", "preNorm": "ln_pre"] }

    /// Initialisation as CLIP's: class and positional embeddings N(0, width⁻¹); in the blocks, query/key/value
    /// weights N(0, width⁻¹), attention-output and second MLP weights N(0, width⁻¹/(2·layers)) (their sum over the
    /// residual stream of 2·layers branches keeps unit scale), first MLP weights N(0, (2·width)⁻¹), attention
    /// biases zero; the patch convolution keeps PyTorch's default, as in CLIP.
    public init(_ configuration: VisionTransformerConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        let width = configuration.width
        let scale = 1 / Double(width).squareRoot()
        patchEmbedding = try Conv2d(
            configuration.inputChannels, width, kernelSize: configuration.patchSize, stride: configuration.patchSize,
            bias: false, generator: generator)
        classEmbedding = try Initialization.normal([width], std: scale, generator: generator)
        positionalEmbedding = try Initialization.normal(
            [configuration.tokenCount, width], std: scale, generator: generator)
        preNorm = try LayerNorm(width)
        transformer = try TransformerEncoder(
            layerCount: configuration.layerCount, dimension: width, heads: configuration.headCount,
            feedForwardDimension: configuration.feedForwardSize, activation: configuration.activation, normFirst: true,
            generator: generator)
        super.init()
        if Initialization.fillsValues { try transformer.initializeAsCLIP(generator: generator) }
    }

    /// Token width.
    public var width: Int { configuration.width }

    /// - Parameter images: [batch, inputChannels, imageSize, imageSize]
    /// - Returns: [batch, tokenCount, width]: the class token, then the patches row by row
    public func callAsFunction(_ images: Tensor) throws -> Tensor {
        let (channels, size) = (configuration.inputChannels, configuration.imageSize)
        guard images.rank == 4, images.size(1) == channels, images.size(2) == size, images.size(3) == size else {
            throw ModelError.invalidInput(
                "the Vision Transformer expects [batch, \(channels), \(size), \(size)] images, got \(images.shape)")
        }
        let batch = images.size(0)
        // [batch, width, grid, grid] → [batch, grid², width]
        let patches = try patchEmbedding(images).flattened(from: 2).transposed(1, 2)
        let classToken = try classEmbedding.reshaped([1, 1, width]).expanded(to: [batch, 1, width])
        let tokens = try Tensor.cat([classToken, patches], dimension: 1) + positionalEmbedding
        return try transformer(preNorm(tokens))
    }
}
