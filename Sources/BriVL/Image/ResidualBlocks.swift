import Torch
import TorchNN

/// A ResNet block: relu(branch(x) + shortcut(x)). Checkpoint keys are torchvision's (`conv1`, `bn1`, …,
/// `downsample.0`, `downsample.1`).
public protocol ResidualBlock: UnaryLayer {
    /// The batch norm that ends the residual branch, whose gain zero-initialisation starts the block as the identity.
    var lastNorm: BatchNorm2d { get }
    /// The projection applied to the input when the branch changes its shape; the identity otherwise.
    var shortcut: ShortcutProjection? { get }
}

/// The 1×1 convolution (strided like the branch, or after an average pool of the stride) and batch norm that bring
/// a block's input to the shape of its output (torchvision's `downsample`, a Sequential, hence the keys `0` and
/// `1`; CLIP's puts its pool at `-1`, which has no weights).
public final class ShortcutProjection: Module, UnaryLayer {
    public let convolution: Conv2d
    public let norm: BatchNorm2d
    /// The stride of the average pool before the convolution (then at stride 1), or nil.
    let poolStride: Int?

    public override class var checkpointKeys: [String: String] { ["convolution": "0", "norm": "1"] }

    init(_ inputChannels: Int, _ outputChannels: Int, stride: Int, pools: Bool, generator: Generator?) throws {
        convolution = try Conv2d.kaimingNormal(
            inputChannels, outputChannels, kernelSize: 1, stride: pools ? 1 : stride, generator: generator)
        norm = try BatchNorm2d(outputChannels)
        poolStride = pools && stride > 1 ? stride : nil
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard let poolStride else { return try norm(convolution(input)) }
        return try norm(convolution(Functional.avgPool2d(input, kernel: (poolStride, poolStride))))
    }

    /// The projection a block needs, or nil when its input already has the output's shape.
    static func ifNeeded(
        _ inputChannels: Int, _ outputChannels: Int, stride: Int, pools: Bool = false, generator: Generator?
    ) throws -> ShortcutProjection? {
        guard stride != 1 || inputChannels != outputChannels else { return nil }
        return try ShortcutProjection(inputChannels, outputChannels, stride: stride, pools: pools, generator: generator)
    }
}

/// Two 3×3 convolutions with batch norm (ResNet-18/34); the first one carries the stride.
public final class BasicBlock: Module, ResidualBlock {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let shortcut: ShortcutProjection?

    public override class var checkpointKeys: [String: String] { ["shortcut": "downsample"] }

    public var lastNorm: BatchNorm2d { bn2 }

    init(_ inputChannels: Int, width: Int, stride: Int, generator: Generator?) throws {
        conv1 = try Conv2d.kaimingNormal(inputChannels, width, kernelSize: 3, stride: stride, generator: generator)
        bn1 = try BatchNorm2d(width)
        conv2 = try Conv2d.kaimingNormal(width, width, kernelSize: 3, generator: generator)
        bn2 = try BatchNorm2d(width)
        shortcut = try ShortcutProjection.ifNeeded(inputChannels, width, stride: stride, generator: generator)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let branch = try bn2(conv2(bn1(conv1(input)).relu()))
        return try (branch + (shortcut?(input) ?? input)).relu()
    }
}

/// 1×1 reduce to the stage width, 3×3 (carrying the stride, as torchvision's "v1.5" does), 1×1 expand to 4× the
/// width (ResNet-50 and deeper). With `poolsToDownsample` (CLIP's ModifiedResNet) the 3×3 keeps stride 1 and an
/// average pool of the stride comes after it.
public final class BottleneckBlock: Module, ResidualBlock {
    public static let expansion = 4

    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let conv3: Conv2d
    public let bn3: BatchNorm2d
    public let shortcut: ShortcutProjection?
    /// The stride of the average pool after the 3×3 convolution, or nil.
    let poolStride: Int?

    public override class var checkpointKeys: [String: String] { ["shortcut": "downsample"] }

    public var lastNorm: BatchNorm2d { bn3 }

    init(_ inputChannels: Int, width: Int, stride: Int, poolsToDownsample: Bool = false, generator: Generator?) throws {
        let outputChannels = width * Self.expansion
        conv1 = try Conv2d.kaimingNormal(inputChannels, width, kernelSize: 1, generator: generator)
        bn1 = try BatchNorm2d(width)
        conv2 = try Conv2d.kaimingNormal(
            width, width, kernelSize: 3, stride: poolsToDownsample ? 1 : stride, generator: generator)
        bn2 = try BatchNorm2d(width)
        conv3 = try Conv2d.kaimingNormal(width, outputChannels, kernelSize: 1, generator: generator)
        bn3 = try BatchNorm2d(outputChannels)
        shortcut = try ShortcutProjection.ifNeeded(
            inputChannels, outputChannels, stride: stride, pools: poolsToDownsample, generator: generator)
        poolStride = poolsToDownsample && stride > 1 ? stride : nil
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let reduced = try bn1(conv1(input)).relu()
        var middle = try bn2(conv2(reduced)).relu()
        if let poolStride { middle = try Functional.avgPool2d(middle, kernel: (poolStride, poolStride)) }
        let branch = try bn3(conv3(middle))
        return try (branch + (shortcut?(input) ?? input)).relu()
    }
}

extension Conv2d {
    /// A bias-free convolution padded by half its kernel (so stride s maps n to ⌈n / s⌉), with torchvision's ResNet
    /// initialisation: N(0, 2 / fan_out), fan_out = outputs·k² (`kaiming_normal_(mode="fan_out",
    /// nonlinearity="relu")`), which keeps activation variance steady through ReLU stacks in the backward pass.
    static func kaimingNormal(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, generator: Generator?
    ) throws -> Conv2d {
        let convolution = try Conv2d(
            inputChannels, outputChannels, kernelSize: kernelSize, stride: stride, padding: kernelSize / 2,
            bias: false, generator: generator)
        let std = (2 / Double(outputChannels * kernelSize * kernelSize)).squareRoot()
        if Initialization.fillsValues {
            try withNoGrad { try convolution.weight.normalInPlace(std: std, generator: generator) }
        }
        return convolution
    }
}
