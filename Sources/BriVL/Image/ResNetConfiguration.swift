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

        /// The resolution reduction of the stem.
        public var stride: Int { self == .imagenet ? 4 : 1 }
    }

    public var block: Block
    /// Blocks per stage (1 to 4 stages, named `layer1`… in checkpoints).
    public var depths: [Int]
    /// Base width of each stage (its output width is this times the block's expansion).
    public var widths: [Int]
    public var stem: Stem
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
        case block, depths, widths, stem
        case stemWidth = "stem_width"
        case inputChannels = "input_channels"
        case zeroInitializeResidualGains = "zero_initialize_residual_gains"
        case frozenStages = "frozen_stages"
    }

    public init(
        block: Block, depths: [Int], widths: [Int], stem: Stem = .imagenet, stemWidth: Int? = nil,
        inputChannels: Int = 3, zeroInitializeResidualGains: Bool = false, frozenStages: Int? = nil
    ) {
        self.block = block
        self.depths = depths
        self.widths = widths
        self.stem = stem
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
    /// A backbone small enough to train on a few CPU cores: 32–64 px images, one basic block per stage, 256 channels
    /// out at stride 8 (a 64 px image gives an 8×8 map).
    public static let tiny = ResNetConfiguration(
        block: .basic, depths: [1, 1, 1, 1], widths: [32, 64, 128, 256], stem: .small)

    /// Channels of the output feature map.
    public var outputChannels: Int { (widths.last ?? stemWidth) * block.expansion }

    /// Input pixels per output cell along each side.
    public var outputStride: Int { stem.stride << max(depths.count - 1, 0) }

    /// Height and width of the output feature map for an input of the given size. Every stride-2 step (convolution
    /// or pool, all padded by half their kernel) maps n to ⌈n / 2⌉.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let halvings = (stem == .imagenet ? 2 : 0) + max(depths.count - 1, 0)
        var size = (height: height, width: width)
        for _ in 0..<halvings { size = ((size.height + 1) / 2, (size.width + 1) / 2) }
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
        guard inputChannels > 0 else { throw fail("input channels must be positive, got \(inputChannels)") }
        if let frozenStages, !(0...depths.count).contains(frozenStages) {
            throw fail("frozen stages must be in 0...\(depths.count) (or none), got \(frozenStages)")
        }
    }
}
