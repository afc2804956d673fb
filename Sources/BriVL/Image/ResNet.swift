import Torch
import TorchNN

/// A ResNet backbone for BriVL's image tower: the stem and the residual stages, ending at the last feature map
/// (no global pool, no classifier), which Multi-Grid Split pooling turns into region vectors.
///
/// Checkpoint keys are torchvision's (`conv1.weight`, `bn1.running_mean`, `layer1.0.conv1.weight`,
/// `layer2.0.downsample.0.weight`, …), so a torchvision state dict without `fc.*` loads as it is.
///
/// Freezing (``setFrozenStages(_:)``) stops gradients in the stem and the first stages and keeps their batch norms
/// in evaluation mode even when the model is put in training mode: small batches of a new domain would otherwise
/// overwrite the running statistics the frozen weights were trained with.
public final class ResNet: Module, UnaryLayer {
    public let stemConvolution: Conv2d
    public let stemNorm: BatchNorm2d
    /// The deep stem's second and third convolutions with their norms (nil for the other stems).
    public let stemConvolution2: Conv2d?
    public let stemNorm2: BatchNorm2d?
    public let stemConvolution3: Conv2d?
    public let stemNorm3: BatchNorm2d?
    public let stage1: [any ResidualBlock]
    /// Empty when the configuration has fewer stages.
    public let stage2: [any ResidualBlock]
    public let stage3: [any ResidualBlock]
    public let stage4: [any ResidualBlock]

    /// The configuration built from, with ``ResNetConfiguration/frozenStages`` kept up to date.
    public private(set) var configuration: ResNetConfiguration

    public override class var checkpointKeys: [String: String] {
        ["stemConvolution": "conv1", "stemNorm": "bn1", "stemConvolution2": "conv2", "stemNorm2": "bn2",
         "stemConvolution3": "conv3", "stemNorm3": "bn3", "stage1": "layer1", "stage2": "layer2", "stage3": "layer3",
         "stage4": "layer4"]
    }

    public init(_ configuration: ResNetConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        let stemWidth = configuration.stemWidth
        switch configuration.stem {
        case .imagenet, .small:
            let imagenet = configuration.stem == .imagenet
            stemConvolution = try Conv2d.kaimingNormal(
                configuration.inputChannels, stemWidth, kernelSize: imagenet ? 7 : 3, stride: imagenet ? 2 : 1,
                generator: generator)
            stemNorm = try BatchNorm2d(stemWidth)
            (stemConvolution2, stemNorm2, stemConvolution3, stemNorm3) = (nil, nil, nil, nil)
        case .deep:
            stemConvolution = try Conv2d.kaimingNormal(
                configuration.inputChannels, stemWidth / 2, kernelSize: 3, stride: 2, generator: generator)
            stemNorm = try BatchNorm2d(stemWidth / 2)
            stemConvolution2 = try Conv2d.kaimingNormal(stemWidth / 2, stemWidth / 2, kernelSize: 3, generator: generator)
            stemNorm2 = try BatchNorm2d(stemWidth / 2)
            stemConvolution3 = try Conv2d.kaimingNormal(stemWidth / 2, stemWidth, kernelSize: 3, generator: generator)
            stemNorm3 = try BatchNorm2d(stemWidth)
        }
        let poolsToDownsample = configuration.downsampling == .averagePool
        var stages: [[any ResidualBlock]] = []
        var channels = configuration.stemWidth
        for (index, (depth, width)) in zip(configuration.depths, configuration.widths).enumerated() {
            var blocks: [any ResidualBlock] = []
            for blockIndex in 0..<depth {
                let stride = index > 0 && blockIndex == 0 ? 2 : 1
                switch configuration.block {
                case .basic: blocks.append(try BasicBlock(channels, width: width, stride: stride, generator: generator))
                case .bottleneck:
                    blocks.append(
                        try BottleneckBlock(
                            channels, width: width, stride: stride, poolsToDownsample: poolsToDownsample,
                            generator: generator))
                }
                channels = width * configuration.block.expansion
            }
            stages.append(blocks)
        }
        stages += Array(repeating: [], count: 4 - stages.count)
        (stage1, stage2, stage3, stage4) = (stages[0], stages[1], stages[2], stages[3])
        super.init()
        if configuration.zeroInitializeResidualGains, Initialization.fillsValues {
            try withNoGrad {
                for block in self.stages.joined() { try block.lastNorm.weight?.zeroInPlace() }
            }
        }
        try setFrozenStages(configuration.frozenStages)
    }

    /// The non-empty stages, in order.
    public var stages: [[any ResidualBlock]] { [stage1, stage2, stage3, stage4].filter { !$0.isEmpty } }

    /// Channels of the output feature map.
    public var outputChannels: Int { configuration.outputChannels }

    /// Input pixels per output cell along each side (32 for the ImageNet stem with four stages, 8 for the small one).
    public var outputStride: Int { configuration.outputStride }

    /// - Parameter images: [batch, inputChannels, H, W]
    /// - Returns: [batch, outputChannels, h, w] with (h, w) = ``ResNetConfiguration/outputSize(height:width:)``
    public func callAsFunction(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4, images.size(1) == configuration.inputChannels else {
            throw ModelError.invalidInput(
                "the ResNet expects [batch, \(configuration.inputChannels), height, width], got \(images.shape)")
        }
        var x = try stemNorm(stemConvolution(images)).relu()
        switch configuration.stem {
        case .imagenet: x = try Functional.maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        case .small: break
        case .deep:
            for (convolution, norm) in zip([stemConvolution2, stemConvolution3], [stemNorm2, stemNorm3]) {
                guard let convolution, let norm else { throw ModelError.invalidConfiguration("a deep stem without its layers") }
                x = try norm(convolution(x)).relu()
            }
            x = try Functional.avgPool2d(x, kernel: (2, 2))
        }
        for block in stages.joined() { x = try block(x) }
        return x
    }

    // MARK: - Freezing

    /// Freezes the stem and the first `count` stages and unfreezes the rest; nil unfreezes everything.
    ///
    /// Frozen parameters stop requiring gradients (so optimisers built from ``Module/trainableParameters()`` skip
    /// them), and frozen batch norms stay in evaluation mode through later `train()` calls.
    public func setFrozenStages(_ count: Int?) throws {
        var proposed = configuration
        proposed.frozenStages = count
        try proposed.validate()
        configuration = proposed
        try freeze(false)
        for module in frozenModules { try module.freeze() }
        train(training)
    }

    /// The stem's layers and the blocks of the frozen stages.
    private var frozenModules: [Module] {
        guard let count = configuration.frozenStages else { return [] }
        let stem: [Module?] = [stemConvolution, stemNorm, stemConvolution2, stemNorm2, stemConvolution3, stemNorm3]
        return stem.compactMap { $0 } + stages.prefix(count).joined().map { $0 as Module }
    }

    /// Sets the mode of every layer, then returns the frozen ones to evaluation mode.
    public override func train(_ on: Bool = true) {
        super.train(on)
        for module in frozenModules { module.eval() }
    }
}
