import Foundation
import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("ResNet backbone")
struct ResNetTests {
    private func keys(_ model: Module) -> Set<String> { Set(model.stateDict().map(\.key)) }

    @Test("presets have torchvision's parameter counts without the classifier")
    func torchvisionParameterCounts() throws {
        let generator = try Generator(seed: 1)
        // torchvision's totals less fc (512·1000 + 1000 = 513,000; 2048·1000 + 1000 = 2,049,000).
        #expect(try ResNet(.resnet18, generator: generator).parameterCount == 11_689_512 - 513_000)
        #expect(try ResNet(.resnet34, generator: generator).parameterCount == 21_797_672 - 513_000)
        #expect(try ResNet(.resnet50, generator: generator).parameterCount == 25_557_032 - 2_049_000)
    }

    @Test("CLIP's RN50 backbone has the parameters and keys of cn_clip's ModifiedResNet without its attention pool")
    func clipResNetParameters() throws {
        let model = try ResNet(.clipResNet50, generator: Generator(seed: 1))
        // cn_clip.clip.model.ModifiedResNet([3, 4, 6, 3], 1024, 32, 224, 64): 38,316,896 parameters, of which
        // 23,527,264 outside `attnpool`.
        #expect(model.parameterCount == 23_527_264)
        let shapes = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["conv1.weight"] == [32, 3, 3, 3] && shapes["conv3.weight"] == [64, 32, 3, 3])
        #expect(shapes["bn3.running_var"] == [64] && shapes["layer2.0.downsample.0.weight"] == [512, 256, 1, 1])
        #expect(shapes["layer2.0.conv2.weight"] == [128, 128, 3, 3])
        #expect(try model(Tensor.randn([1, 3, 224, 224], generator: Generator(seed: 2))).shape == [1, 2048, 7, 7])
        // 2×2 average pools round down: 70 → 35 (conv) → 17 (pool) → 17 → 8 → 4 → 2
        #expect(ResNetConfiguration.clipResNet50.outputSize(height: 70, width: 64) == (2, 2))
        #expect(try model(Tensor.randn([1, 3, 70, 64], generator: Generator(seed: 2))).shape == [1, 2048, 2, 2])
    }

    @Test("the tiny preset's parameter count adds up layer by layer")
    func tinyParameterCount() throws {
        // stem: 3·32·3² conv + 2·32 BN = 928
        // layer1 (32→32): 2·(32·32·9) + 2·64 = 18,560
        // layer2 (32→64, stride 2): 32·64·9 + 64·64·9 + 2·128 + projection 32·64 + 128 = 57,728
        // layer3 (64→128): 64·128·9 + 128·128·9 + 2·256 + 64·128 + 256 = 230,144
        // layer4 (128→256): 128·256·9 + 256·256·9 + 2·512 + 128·256 + 512 = 919,040
        let model = try ResNet(.tiny, generator: Generator(seed: 1))
        #expect(model.parameterCount == 928 + 18_560 + 57_728 + 230_144 + 919_040)
    }

    @Test("checkpoint keys are torchvision's")
    func checkpointKeys() throws {
        let resnet18 = try ResNet(.resnet18, generator: Generator(seed: 2))
        let keys18 = keys(resnet18)
        // torchvision's resnet18 state dict has 122 entries, 2 of them fc's.
        #expect(keys18.count == 120)
        for key in [
            "conv1.weight", "bn1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
            "layer1.1.bn2.bias", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
            "layer4.1.conv2.weight",
        ] {
            #expect(keys18.contains(key), "\(key)")
        }
        #expect(!keys18.contains("layer1.0.downsample.0.weight"), "layer1 keeps the shape: identity shortcut")
        #expect(!keys18.contains("conv1.bias"), "ResNet convolutions have no bias")

        let resnet50 = try ResNet(.resnet50, generator: Generator(seed: 2))
        let keys50 = keys(resnet50)
        // torchvision's resnet50 state dict has 320 entries, 2 of them fc's.
        #expect(keys50.count == 318)
        for key in [
            "layer1.0.downsample.0.weight", "layer1.0.conv3.weight", "layer3.5.bn3.bias", "layer4.2.bn3.running_mean",
        ] {
            #expect(keys50.contains(key), "\(key)")
        }
        let shapes = Dictionary(uniqueKeysWithValues: resnet50.stateDict().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["conv1.weight"] == [64, 3, 7, 7])
        #expect(shapes["layer2.0.conv2.weight"] == [128, 128, 3, 3])
        #expect(shapes["layer2.0.downsample.0.weight"] == [512, 256, 1, 1])
        #expect(shapes["layer4.2.conv3.weight"] == [2048, 512, 1, 1])
    }

    @Test("the ImageNet stem reduces by 32, the small stem by 8; odd sizes round up at every halving")
    func outputShapesAndStride() throws {
        let resnet18 = try ResNet(.resnet18, generator: Generator(seed: 3))
        #expect(resnet18.outputStride == 32 && resnet18.outputChannels == 512)
        #expect(try resnet18(Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 4))).shape == [2, 512, 2, 2])
        // 50 → 25 (conv) → 13 (pool) → 13 → 7 → 4 → 2; 75 → 38 → 19 → 19 → 10 → 5 → 3
        #expect(ResNetConfiguration.resnet18.outputSize(height: 50, width: 75) == (2, 3))
        #expect(try resnet18(Tensor.randn([1, 3, 50, 75], generator: Generator(seed: 4))).shape == [1, 512, 2, 3])

        let resnet50 = try ResNet(.resnet50, generator: Generator(seed: 3))
        #expect(resnet50.outputStride == 32 && resnet50.outputChannels == 2048)
        #expect(try resnet50(Tensor.randn([1, 3, 64, 64], generator: Generator(seed: 4))).shape == [1, 2048, 2, 2])

        let tiny = try ResNet(.tiny, generator: Generator(seed: 3))
        #expect(tiny.outputStride == 8 && tiny.outputChannels == 256)
        #expect(try tiny(Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 4))).shape == [2, 256, 8, 8])
        #expect(try tiny(Tensor.randn([1, 3, 33, 32], generator: Generator(seed: 4))).shape == [1, 256, 5, 4])
        #expect(ResNetConfiguration.tiny.outputSize(height: 33, width: 32) == (5, 4))

        let twoStages = ResNetConfiguration(block: .bottleneck, depths: [1, 1], widths: [4, 8], stem: .small)
        #expect(twoStages.outputStride == 2 && twoStages.outputChannels == 32)
        #expect(try ResNet(twoStages)(Tensor.randn([1, 3, 10, 10])).shape == [1, 32, 5, 5])
    }

    @Test("convolutions start as torchvision's: N(0, 2 / fan_out)")
    func kaimingInitialisation() throws {
        let model = try ResNet(.resnet18, generator: Generator(seed: 5))
        // layer4.0.conv1 maps 256 → 512 channels: fan_out = 512·3² gives std √(2/4608) ≈ 0.0208 (fan_in would give
        // 0.0295, PyTorch's default uniform 0.0120), estimated from 1.2M samples.
        let block = try #require(model.stage4[0] as? BasicBlock)
        #expect(block.conv1.weight.shape == [512, 256, 3, 3])
        let std = try block.conv1.weight.variance(dimensions: [0, 1, 2, 3], unbiased: false).item().squareRoot()
        #expect(abs(std - (2.0 / 4608).squareRoot()) < 2e-4)
        #expect(try abs(block.conv1.weight.mean().item()) < 1e-4)
        #expect(try model.stemNorm.weight!.toArray(Double.self).allSatisfy { $0 == 1 })
    }

    @Test("zero-initialised residual gains make every identity-shortcut block start as the identity")
    func zeroInitialisedResidualGains() throws {
        var configuration = ResNetConfiguration.tiny
        configuration.depths = [2, 1, 1, 1]
        configuration.zeroInitializeResidualGains = true
        let model = try ResNet(configuration, generator: Generator(seed: 6))
        model.eval()
        for block in model.stages.joined() {
            #expect(try block.lastNorm.weight!.toArray(Double.self).allSatisfy { $0 == 0 })
        }
        // The second block of layer1 has an identity shortcut and a non-negative input (it follows a ReLU).
        let input = try Tensor.randn([1, 32, 6, 6], generator: Generator(seed: 7)).relu()
        #expect(try model.stage1[1](input).equals(input))
        let plain = try ResNet(.tiny, generator: Generator(seed: 6))
        #expect(try plain.stage1[0].lastNorm.weight!.toArray(Double.self).allSatisfy { $0 == 1 })
    }

    @Test("evaluation mode is deterministic; the same seed builds the same model")
    func determinism() throws {
        let input = try Tensor.randn([2, 3, 32, 32], generator: Generator(seed: 8))
        let model = try ResNet(.tiny, generator: Generator(seed: 9))
        model.eval()
        let first = try model(input)
        #expect(try model(input).equals(first))
        let twin = try ResNet(.tiny, generator: Generator(seed: 9))
        twin.eval()
        #expect(try twin(input).equals(first))
        let other = try ResNet(.tiny, generator: Generator(seed: 10))
        other.eval()
        #expect(try !other(input).isClose(to: first, rtol: 1e-3, atol: 1e-3))
        // Evaluation leaves the running statistics alone; training mode updates them.
        let before = try model.stemNorm.runningMean.toArray(Double.self)
        _ = try model(input)
        #expect(try model.stemNorm.runningMean.toArray(Double.self) == before)
        model.train()
        _ = try model(input)
        #expect(try model.stemNorm.runningMean.toArray(Double.self) != before)
    }

    @Test("frozen stages stop requiring gradients and keep their batch norms in evaluation mode")
    func freezing() throws {
        var configuration = ResNetConfiguration.tiny
        configuration.frozenStages = 2
        let model = try ResNet(configuration, generator: Generator(seed: 11))
        model.train()
        let frozen = model.namedParameters().filter { !$0.tensor.requiresGrad }.map(\.key)
        #expect(!frozen.isEmpty)
        let frozenPrefixes = ["conv1.", "bn1.", "layer1.", "layer2."]
        #expect(frozen.allSatisfy { key in frozenPrefixes.contains { key.hasPrefix($0) } })
        #expect(frozen.contains("conv1.weight") && frozen.contains("layer2.0.downsample.1.weight"))
        #expect(model.trainableParameters().count == model.parameters().count - frozen.count)
        #expect(model.namedParameters().filter { $0.key.hasPrefix("layer3.") }.allSatisfy { $0.tensor.requiresGrad })

        // After model.train(), the frozen batch norms are still in evaluation mode.
        #expect(!model.stemNorm.training && !model.stage2[0].lastNorm.training)
        #expect(model.training && model.stage3[0].lastNorm.training)
        let frozenMeans = try [model.stemNorm, model.stage1[0].lastNorm, model.stage2[0].lastNorm].map {
            try $0.runningMean.toArray(Double.self)
        }
        let trainedMean = try model.stage3[0].lastNorm.runningMean.toArray(Double.self)
        let input = try Tensor.randn([2, 3, 32, 32], generator: Generator(seed: 12))
        let output = try model(input)
        #expect(try [model.stemNorm, model.stage1[0].lastNorm, model.stage2[0].lastNorm].map {
            try $0.runningMean.toArray(Double.self)
        } == frozenMeans)
        #expect(try model.stage3[0].lastNorm.runningMean.toArray(Double.self) != trainedMean)

        // Gradients reach only the trainable stages.
        try output.sum().backward()
        #expect(model.stemConvolution.weight.grad == nil)
        #expect(model.stage3[0].lastNorm.weight!.grad != nil)

        // Unfreezing restores both, following the model's mode.
        try model.setFrozenStages(nil)
        #expect(model.configuration.frozenStages == nil)
        #expect(model.trainableParameters().count == model.parameters().count)
        #expect(model.stemNorm.training)
        try model.setFrozenStages(0)
        #expect(!model.stemNorm.training && model.stage1[0].lastNorm.training)
        #expect(!model.stemConvolution.weight.requiresGrad && model.stage1[0].lastNorm.weight!.requiresGrad)
        #expect(throws: ModelError.self) { try model.setFrozenStages(5) }
    }

    @Test("gradients through basic blocks with batch statistics match finite differences")
    func basicBlockGradients() throws {
        let configuration = ResNetConfiguration(
            block: .basic, depths: [1, 1], widths: [2, 3], stem: .small, inputChannels: 2)
        let model = try ResNet(configuration, generator: Generator(seed: 13))
        try model.to(dtype: .float64)
        let images = try Tensor.randn([2, 2, 6, 6], dtype: .float64, generator: Generator(seed: 14))
        let parameters = model.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        let report = try gradientReport([("images", images)] + parameters) { try model(images) }
        #expect(report.passed, "\(report)")
        #expect(report.checked == images.count + model.parameterCount)
    }

    @Test("gradients through bottlenecks, the ImageNet stem and its max-pool match finite differences")
    func bottleneckGradients() throws {
        let configuration = ResNetConfiguration(
            block: .bottleneck, depths: [1, 1], widths: [1, 2], stem: .imagenet, stemWidth: 3, inputChannels: 1)
        let report = try evaluationModeGradients(configuration, imageSize: 12, seed: 15)
        #expect(report.passed, "\(report)")
    }

    /// The finite-difference report of a float64 model in evaluation mode, w.r.t. one image and every parameter.
    /// Batch-norm gains and biases are moved off 1 and 0 first: with a zero bias, a channel that a ReLU zeroed
    /// everywhere gives the next ReLU an input of exactly 0, where the derivative is undefined.
    private func evaluationModeGradients(
        _ configuration: ResNetConfiguration, imageSize: Int, seed: UInt64
    ) throws -> GradientReport {
        let model = try ResNet(configuration, generator: Generator(seed: seed))
        try model.to(dtype: .float64)
        model.eval()
        let generator = try Generator(seed: seed + 2)
        try withNoGrad {
            for parameter in model.parameters() where parameter.rank == 1 {
                try parameter.addInPlace(Tensor.randn(parameter.shape, dtype: .float64, generator: generator) * 0.1)
            }
        }
        let images = try Tensor.randn(
            [1, configuration.inputChannels, imageSize, imageSize], dtype: .float64, generator: Generator(seed: seed + 1))
        let parameters = model.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        return try gradientReport([("images", images)] + parameters) { try model(images) }
    }

    @Test("gradients through the deep stem and average-pool downsampling match finite differences")
    func averagePoolDownsamplingGradients() throws {
        let configuration = ResNetConfiguration(
            block: .bottleneck, depths: [1, 2], widths: [1, 2], stem: .deep, downsampling: .averagePool, stemWidth: 2,
            inputChannels: 1)
        let report = try evaluationModeGradients(configuration, imageSize: 16, seed: 17)
        #expect(report.passed, "\(report)")
    }

    @Test("the configuration round-trips through snake_case JSON")
    func configurationCoding() throws {
        var configuration = ResNetConfiguration.resnet50
        configuration.frozenStages = 3
        configuration.zeroInitializeResidualGains = true
        let json = try JSONEncoder().encode(configuration)
        let text = String(decoding: json, as: UTF8.self)
        let expectedKeys = ["stem_width", "input_channels", "zero_initialize_residual_gains", "frozen_stages"]
        for key in expectedKeys.map({ "\"\($0)\":" }) + ["\"bottleneck\"", "\"imagenet\""] {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        #expect(try JSONDecoder().decode(ResNetConfiguration.self, from: json) == configuration)
        let tinyJSON = try JSONEncoder().encode(ResNetConfiguration.tiny)
        #expect(try JSONDecoder().decode(ResNetConfiguration.self, from: tinyJSON) == .tiny)
        // torchvision's downsampling is left out, so earlier model.json files stay byte for byte what they were.
        #expect(!String(decoding: tinyJSON, as: UTF8.self).contains("downsampling"))
        let clip = try JSONEncoder().encode(ResNetConfiguration.clipResNet50)
        #expect(String(decoding: clip, as: UTF8.self).contains("\"downsampling\":\"average_pool\""))
        #expect(try JSONDecoder().decode(ResNetConfiguration.self, from: clip) == .clipResNet50)
    }

    @Test("inconsistent configurations and inputs are refused with clear errors")
    func invalid() throws {
        func refused(_ configuration: ResNetConfiguration) -> Bool {
            do {
                _ = try ResNet(configuration)
                return false
            } catch let error as ModelError {
                return error.description.contains("ResNet")
            } catch {
                return false
            }
        }
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1, 1], widths: [8])))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [], widths: [])))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1, 1, 1, 1, 1], widths: [1, 1, 1, 1, 1])))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1, 0], widths: [4, 8])))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1], widths: [4], inputChannels: 0)))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1], widths: [4], frozenStages: 2)))
        #expect(refused(ResNetConfiguration(block: .basic, depths: [1], widths: [4], downsampling: .averagePool)))
        #expect(refused(ResNetConfiguration(block: .bottleneck, depths: [1], widths: [4], stem: .deep, stemWidth: 3)))
        let model = try ResNet(.tiny)
        #expect(throws: ModelError.invalidInput(
            "the ResNet expects [batch, 3, height, width], got [1, 1, 8, 8]")) { try model(Tensor.randn([1, 1, 8, 8])) }
        #expect(throws: ModelError.self) { try model(Tensor.randn([3, 8, 8])) }
    }
}
