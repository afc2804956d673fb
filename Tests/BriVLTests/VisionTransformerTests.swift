import Foundation
import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("Vision Transformer")
struct VisionTransformerTests {
    /// Parameters of one pre-norm block of width w and feed-forward width f: two LayerNorms (2·2w), query, key,
    /// value and output projections with biases (4·(w² + w)), and the MLP (w·f + f + f·w + w).
    private func blockParameters(width w: Int, feedForward f: Int) -> Int {
        4 * w + 4 * (w * w + w) + (w * f + f + f * w + w)
    }

    @Test("B/32 has OpenCLIP ViT-B-32's visual parameters, less its 768×512 output projection")
    func b32ParameterCount() throws {
        // conv1 768·3·32·32 = 2,359,296; class embedding 768; positional embedding (1 + 7²)·768 = 38,400;
        // ln_pre 1,536; 12 blocks · (4·768 + 4·(768² + 768) + 2·768·3072 + 3072 + 768) = 12 · 7,087,872 = 85,054,464;
        // ln_post 1,536. Sum: 87,456,000; with OpenCLIP's proj (768·512 = 393,216): 87,849,216.
        let perBlock = blockParameters(width: 768, feedForward: 3072)
        #expect(perBlock == 7_087_872)
        let expected = 768 * 3 * 32 * 32 + 768 + 50 * 768 + 2 * 768 + 12 * perBlock + 2 * 768
        #expect(expected == 87_456_000)
        #expect(expected + 768 * 512 == 87_849_216)
        let model = try VisionTransformer(.b32, generator: Generator(seed: 1))
        #expect(model.parameterCount == 87_456_000)
        #expect(VisionTransformerConfiguration.b32.tokenCount == 50)
    }

    @Test("the tiny preset's parameter count adds up layer by layer")
    func tinyParameterCount() throws {
        // conv1 256·3·8·8 = 49,152; class 256; positional (1 + 8²)·256 = 16,640; ln_pre 512;
        // 4 blocks · 789,760 = 3,159,040; ln_post 512. Sum: 3,226,112.
        #expect(blockParameters(width: 256, feedForward: 1024) == 789_760)
        let model = try VisionTransformer(.tiny, generator: Generator(seed: 2))
        #expect(model.parameterCount == 49_152 + 256 + 16_640 + 512 + 4 * 789_760 + 512)
        #expect(model.parameterCount == 3_226_112)
    }

    @Test("checkpoint keys and shapes follow CLIP's where the layout is the same")
    func checkpointKeys() throws {
        let model = try VisionTransformer(.tiny, generator: Generator(seed: 3))
        let shapes = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.key, $0.tensor.shape) })
        #expect(shapes["conv1.weight"] == [256, 3, 8, 8])
        #expect(shapes["conv1.bias"] == nil)
        #expect(shapes["class_embedding"] == [256])
        #expect(shapes["positional_embedding"] == [65, 256])
        #expect(shapes["ln_pre.weight"] == [256])
        #expect(shapes["transformer.layers.3.linear1.weight"] == [1024, 256])
        #expect(shapes["transformer.final_norm.bias"] == [256])
    }

    @Test("outputs the class token and every patch token; the class token sits first")
    func shapes() throws {
        let model = try VisionTransformer(.tiny, generator: Generator(seed: 4))
        model.eval()
        let images = try Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 5))
        let tokens = try model(images)
        #expect(tokens.shape == [2, 65, 256])
        // The final LayerNorm gives every token zero mean over its width.
        #expect(try tokens.mean(dimension: 2).abs().max().item() < 1e-5)
        // Each image's tokens depend only on that image.
        let first = try model(images.narrowed(dimension: 0, start: 0, length: 1))
        #expect(try first.isClose(to: tokens.narrowed(dimension: 0, start: 0, length: 1), rtol: 1e-4, atol: 1e-5))
        // Changing one patch changes every token (attention mixes them), including the class token.
        let patched = try images.clone()
        try withNoGrad {
            let firstPatch = try patched.narrowed(dimension: 2, start: 0, length: 8).narrowed(dimension: 3, start: 0, length: 8)
            try firstPatch.fillInPlace(3)
        }
        let changed = try model(patched)
        let classToken = try tokens.selected(dimension: 1, index: 0)
        #expect(try !changed.selected(dimension: 1, index: 0).isClose(to: classToken, rtol: 1e-3, atol: 1e-3))

        // With patch and positional embeddings zeroed, the 64 patch tokens are identical and only token 0 (the
        // class token) differs from them.
        try withNoGrad {
            try model.patchEmbedding.weight.zeroInPlace()
            try model.positionalEmbedding.zeroInPlace()
        }
        let blank = try model(images)
        let patchTokens = try blank.narrowed(dimension: 1, start: 1, length: 64)
        let firstPatch = try blank.narrowed(dimension: 1, start: 1, length: 1)
        #expect(try patchTokens.isClose(to: firstPatch.expanded(to: [2, 64, 256]), rtol: 1e-4, atol: 1e-5))
        #expect(try !blank.narrowed(dimension: 1, start: 0, length: 1).isClose(to: firstPatch, rtol: 1e-2, atol: 1e-2))
    }

    @Test("initialisation is scaled like CLIP's and seeded")
    func initialisation() throws {
        let model = try VisionTransformer(.tiny, generator: Generator(seed: 6))
        func std(_ tensor: Tensor) throws -> Double {
            try tensor.variance(dimensions: Array(0..<tensor.rank), unbiased: false).item().squareRoot()
        }
        // width 256: embeddings and query/key/value std 256^-½ = 0.0625, first MLP (2·256)^-½ ≈ 0.0442, residual
        // outputs 0.0625/√8 ≈ 0.0221; each estimated from at least 16,640 samples (a few % error at most).
        #expect(abs(try std(model.positionalEmbedding) - 0.0625) < 0.003)
        let layer = model.transformer.layers[0]
        #expect(abs(try std(layer.selfAttention.query.weight) - 0.0625) < 0.002)
        #expect(abs(try std(layer.linear1.weight) - 1 / 512.0.squareRoot()) < 0.001)
        #expect(abs(try std(layer.linear2.weight) - 0.0625 / 8.0.squareRoot()) < 0.0005)
        #expect(abs(try std(layer.selfAttention.output.weight) - 0.0625 / 8.0.squareRoot()) < 0.0007)
        #expect(try layer.selfAttention.key.bias!.abs().max().item() == 0)

        let images = try Tensor.randn([1, 3, 64, 64], generator: Generator(seed: 7))
        let twin = try VisionTransformer(.tiny, generator: Generator(seed: 6))
        #expect(try twin(images).equals(model(images)))
    }

    @Test("gradients w.r.t. the images and every parameter match finite differences")
    func gradients() throws {
        let configuration = VisionTransformerConfiguration(
            imageSize: 4, patchSize: 2, width: 4, layerCount: 1, headCount: 2, mlpRatio: 2, inputChannels: 2)
        let model = try VisionTransformer(configuration, generator: Generator(seed: 8))
        try model.to(dtype: .float64)
        let images = try Tensor.randn([2, 2, 4, 4], dtype: .float64, generator: Generator(seed: 9))
        let parameters = model.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        let report = try gradientReport([("images", images)] + parameters) { try model(images) }
        #expect(report.passed, "\(report)")
        // conv 4·2·2·2, class 4, positional 5·4, ln_pre 8, block 16 + 4·20 + (4·8 + 8 + 8·4 + 4), ln_post 8
        #expect(model.parameterCount == 32 + 4 + 20 + 8 + 172 + 8)
        #expect(report.checked == images.count + model.parameterCount)
    }

    @Test("images of the wrong size and bad configurations are refused with clear errors")
    func invalid() throws {
        let model = try VisionTransformer(.tiny, generator: Generator(seed: 10))
        #expect(throws: ModelError.invalidInput(
            "the Vision Transformer expects [batch, 3, 64, 64] images, got [1, 3, 32, 32]")) {
            try model(Tensor.randn([1, 3, 32, 32]))
        }
        #expect(throws: ModelError.self) { try model(Tensor.randn([1, 1, 64, 64])) }
        #expect(throws: ModelError.self) { try model(Tensor.randn([3, 64, 64])) }

        func refusal(_ configuration: VisionTransformerConfiguration) -> String? {
            do {
                _ = try VisionTransformer(configuration)
                return nil
            } catch {
                return (error as? ModelError)?.description
            }
        }
        let unevenPatches = VisionTransformerConfiguration(
            imageSize: 60, patchSize: 8, width: 16, layerCount: 1, headCount: 2)
        #expect(refusal(unevenPatches)?.contains("not a multiple of the patch size 8") == true)
        let unevenHeads = VisionTransformerConfiguration(
            imageSize: 16, patchSize: 8, width: 10, layerCount: 1, headCount: 4)
        #expect(refusal(unevenHeads)?.contains("not divisible into 4 heads") == true)
        let noLayers = VisionTransformerConfiguration(
            imageSize: 16, patchSize: 8, width: 8, layerCount: 0, headCount: 2)
        #expect(refusal(noLayers) != nil)
    }

    @Test("the configuration round-trips through snake_case JSON")
    func configurationCoding() throws {
        let json = try JSONEncoder().encode(VisionTransformerConfiguration.b32)
        let text = String(decoding: json, as: UTF8.self)
        let expectedKeys = ["image_size", "patch_size", "width", "layer_count", "head_count", "mlp_ratio", "input_channels"]
        for key in expectedKeys.map({ "\"\($0)\":" }) {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        #expect(try JSONDecoder().decode(VisionTransformerConfiguration.self, from: json) == .b32)
    }
}
