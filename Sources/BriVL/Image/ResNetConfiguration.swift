/// The shape of a ResNet backbone: stem, residual block kind, and the depth and width of each stage.
///
/// The presets follow torchvision's layout, so their parameter counts and checkpoint keys are torchvision's (less
/// the classifier, which a backbone does not have). Stage i > 1 halves the resolution in its first block.
public struct ResNetConfiguration: Codable, Sendable, Equatable {
    /// The residual block every stage is made of.
    public enum Block: String, Codable, Sendable {
        /// Two 3×3 convolutions (ResNet-18/34); a stage's output width is its base width.
        case basic
        /// 1×1 reduce, 3×3, 1×1 expand (ResNet-50 and deeper); a stage's output width is 4× its base width.
        case bottleneck

        /// Output width / base width of a stage.
        public var expansion: Int { self == .basic ? 1 : 4 }
    }

    /// What comes before the first stage.
    public enum Stem: String, Codable, Sendable {
        /// 7×7 stride-2 convolution, BN, ReLU, 3×3 stride-2 max-pool: a 224 px image becomes 56×56 (stride 4).
        case imagenet
        /// 3×3 stride-1 convolution, BN, ReLU and no pool, so that 32–64 px images keep enough resolution.
        case small
        /// CLIP's ModifiedResNet stem: three 3×3 convolutions (the first at stride 2; stem width / 2, stem width / 2,
        /// stem width channels), each with BN and ReLU, then a 2×2 average pool (stride 4).
        case deep

        /// The resolution reduction of the stem.
        public var stride: Int { self == .small ? 1 : 4 }
    }

    /// How a stage's first block halves the resolution.
    public enum Downsampling: String, Codable, Sendable {
        /// The 3×3 convolution (and the shortcut's 1×1) carries the stride (torchvision).
        case stridedConvolution = "strided_convolution"
        /// Every convolution has stride 1; a 2×2 average pool comes before the block's 1×1 expansion and before the
        /// shortcut's projection (CLIP's anti-aliased ModifiedResNet). Bottleneck blocks only.
        case averagePool = "average_pool"
    }

    public var block: Block
    /// Blocks per stage (1 to 4 stages, named `layer1`… in checkpoints).
    public var depths: [Int]
    /// Base width of each stage (its output width is this times the block's expansion).
    public var widths: [Int]
    public var stem: Stem
    public var downsampling: Downsampling
    /// Channels out of the stem (torchvision: 64).
    public var stemWidth: Int
    public var inputChannels: Int
    /// Starts every residual branch's last BN gain at zero, so that each block begins as the identity
    /// (torchvision's `zero_init_residual`, Goyal et al.); it helps large-batch training from scratch.
    public var zeroInitializeResidualGains: Bool
    /// The stem and this many first stages are frozen (no gradients, batch norm kept in evaluation mode), as BriVL
    /// trains only the last blocks of a pretrained backbone; nil trains everything, 0 freezes the stem alone.
    public var frozenStages: Int?

    enum CodingKeys: String, CodingKey {
        case block, depths, widths, stem, downsampling
        case stemWidth = "stem_width"
        case inputChannels = "input_channels"
        case zeroInitializeResidualGains = "zero_initialize_residual_gains"
        case frozenStages = "frozen_stages"
    }

    public init(
        block: Block, depths: [Int], widths: [Int], stem: Stem = .imagenet, downsampling: Downsampling = .stridedConvolution,
        stemWidth: Int? = nil, inputChannels: Int = 3, zeroInitializeResidualGains: Bool = false,
        frozenStages: Int? = nil
    ) {
        self.block = block
        self.depths = depths
        self.widths = widths
        self.stem = stem
        self.downsampling = downsampling
        self.stemWidth = stemWidth ?? widths.first ?? 64
        self.inputChannels = inputChannels
        self.zeroInitializeResidualGains = zeroInitializeResidualGains
        self.frozenStages = frozenStages
    }

    /// torchvision's resnet18: basic blocks, 2-2-2-2.
    public static let resnet18 = ResNetConfiguration(block: .basic, depths: [2, 2, 2, 2], widths: [64, 128, 256, 512])
    /// torchvision's resnet34: basic blocks, 3-4-6-3.
    public static let resnet34 = ResNetConfiguration(block: .basic, depths: [3, 4, 6, 3], widths: [64, 128, 256, 512])
    /// torchvision's resnet50: bottlenecks (stride on the 3×3 convolution, "ResNet v1.5"), 3-4-6-3, 2048 channels out.
    public static let resnet50 = ResNetConfiguration(
        block: .bottleneck, depths: [3, 4, 6, 3], widths: [64, 128, 256, 512])
    /// CLIP's RN50 image backbone (OpenAI's ModifiedResNet, also Chinese-CLIP's and OpenCLIP's RN50): the deep
    /// stem, average-pool downsampling, bottlenecks 3-4-6-3, 2048 channels out.
    public static let clipResNet50 = ResNetConfiguration(
        block: .bottleneck, depths: [3, 4, 6, 3], widths: [64, 128, 256, 512], stem: .deep, downsampling: .averagePool)
    /// A backbone small enough to train on a few CPU cores: 32–64 px images, one basic block per stage, 256 channels
    /// out at stride 8 (a 64 px image gives an 8×8 map).
    public static let tiny = ResNetConfiguration(
        block: .basic, depths: [1, 1, 1, 1], widths: [32, 64, 128, 256], stem: .small)

    /// Channels of the output feature map.
    public var outputChannels: Int { (widths.last ?? stemWidth) * block.expansion }

    /// Input pixels per output cell along each side.
    public var outputStride: Int { stem.stride << max(depths.count - 1, 0) }

    /// Height and width of the output feature map for an input of the given size. A padded stride-2 step (a
    /// convolution or max pool padded by half its kernel) maps n to ⌈n / 2⌉, a 2×2 average pool to ⌊n / 2⌋.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        var size = (height: height, width: width)
        func halve(roundingUp: Bool) {
            size = roundingUp ? ((size.height + 1) / 2, (size.width + 1) / 2) : (size.height / 2, size.width / 2)
        }
        switch stem {
        case .imagenet: for _ in 0..<2 { halve(roundingUp: true) }
        case .deep: halve(roundingUp: true); halve(roundingUp: false)
        case .small: break
        }
        for _ in 1..<max(depths.count, 1) { halve(roundingUp: downsampling == .stridedConvolution) }
        return size
    }

    /// Throws ``ModelError/invalidConfiguration(_:)`` naming the first inconsistent setting.
    public func validate() throws {
        func fail(_ message: String) -> ModelError { .invalidConfiguration("ResNet: \(message)") }
        guard (1...4).contains(depths.count) else { throw fail("needs 1 to 4 stages, got depths \(depths)") }
        guard widths.count == depths.count else {
            throw fail("\(depths.count) stage depths but \(widths.count) widths (\(widths))")
        }
        guard depths.allSatisfy({ $0 > 0 }) else { throw fail("stage depths must be positive, got \(depths)") }
        guard widths.allSatisfy({ $0 > 0 }) else { throw fail("stage widths must be positive, got \(widths)") }
        guard stemWidth > 0 else { throw fail("stem width must be positive, got \(stemWidth)") }
        if stem == .deep, stemWidth % 2 != 0 {
            throw fail("the deep stem halves its width in its first convolutions: \(stemWidth) is odd")
        }
        if downsampling == .averagePool, block != .bottleneck {
            throw fail("average-pool downsampling is for bottleneck blocks (CLIP's ModifiedResNet)")
        }
        guard inputChannels > 0 else { throw fail("input channels must be positive, got \(inputChannels)") }
        if let frozenStages, !(0...depths.count).contains(frozenStages) {
            throw fail("frozen stages must be in 0...\(depths.count) (or none), got \(frozenStages)")
        }
    }
}

// MARK: - JSON

/// `downsampling` is written only when it is not torchvision's strided convolution, so that every earlier
/// `model.json` reads and round-trips as it was.
extension ResNetConfiguration {
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            block: try container.decode(Block.self, forKey: .block),
            depths: try container.decode([Int].self, forKey: .depths),
            widths: try container.decode([Int].self, forKey: .widths),
            stem: try container.decode(Stem.self, forKey: .stem),
            downsampling: try container.decodeIfPresent(Downsampling.self, forKey: .downsampling) ?? .stridedConvolution,
            stemWidth: try container.decode(Int.self, forKey: .stemWidth),
            inputChannels: try container.decode(Int.self, forKey: .inputChannels),
            zeroInitializeResidualGains: try container.decode(Bool.self, forKey: .zeroInitializeResidualGains),
            frozenStages: try container.decodeIfPresent(Int.self, forKey: .frozenStages))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(block, forKey: .block)
        try container.encode(depths, forKey: .depths)
        try container.encode(widths, forKey: .widths)
        try container.encode(stem, forKey: .stem)
        if downsampling != .stridedConvolution { try container.encode(downsampling, forKey: .downsampling) }
        try container.encode(stemWidth, forKey: .stemWidth)
        try container.encode(inputChannels, forKey: .inputChannels)
        try container.encode(zeroInitializeResidualGains, forKey: .zeroInitializeResidualGains)
        try container.encodeIfPresent(frozenStages, forKey: .frozenStages)
    }
}
