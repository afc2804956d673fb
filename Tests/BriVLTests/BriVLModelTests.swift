import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("BriVL model and presets")
struct BriVLModelTests {
    @Test("every preset validates and round-trips through snake_case JSON", arguments: BriVLConfiguration.presetNames)
    func presetRoundTrip(name: String) throws {
        let preset = try BriVLConfiguration.preset(named: name)
        try preset.validate()
        let json = try preset.encodedJSON()
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"image_size\""))
        #expect(text.contains("\"max_length\""))
        #expect(!text.contains("imageSize"))
        #expect(try BriVLConfiguration.decode(json: json) == preset)
    }

    @Test("unknown presets and inconsistent configurations are refused with the reason")
    func invalidConfigurations() throws {
        #expect(throws: ModelError.self) { try BriVLConfiguration.preset(named: "huge") }
        var mismatched = ModelFixtures.cnn
        mismatched.text.head = .set(EmbeddingHeadConfiguration(inputSize: 8, layerCount: 1, headCount: 2, projectionSizes: [12, 7]))
        #expect(throws: ModelError.self) { try mismatched.validate() }
        var wrongWidth = ModelFixtures.cnn
        wrongWidth.image.head = .set(EmbeddingHeadConfiguration(inputSize: 5, layerCount: 1, headCount: 2, projectionSizes: [12, 6]))
        #expect(throws: ModelError.self) { try BriVLModel(wrongWidth) }
        #expect(throws: ModelError.self) { try BriVLConfiguration.decode(json: Data("{\"name\": 1}".utf8)) }
    }

    @Test("the tiny preset's towers embed 64-pixel images and 32-token captions into one 128-d space")
    func tinyShapes() throws {
        let model = try BriVLModel(.tiny, generator: Generator(seed: 1))
        model.eval()
        let images = try model.encodeImage(Tensor.randn([2, 3, 64, 64], generator: Generator(seed: 2)))
        #expect(images.shape == [2, 128])
        let ids = try Tensor.randint(5..<21128, shape: [3, 32], generator: Generator(seed: 3))
        let texts = try model.encodeText(tokenIDs: ids, attentionMask: Tensor.ones([3, 32], dtype: .int64))
        #expect(texts.shape == [3, 128])
        let similarity = try model.similarity(images, texts)
        #expect(similarity.shape == [2, 3])
        let values = try similarity.toArray(Double.self)
        #expect(values.allSatisfy { abs($0) <= 1 + 1e-5 })
        #expect(abs(try model.currentLogitScale() - 1 / 0.07) < 1e-4)
        #expect(throws: ModelError.self) { try model.encodeImage(Tensor.zeros([1, 3, 32, 32])) }
    }

    @Test("both backbones and both poolings build and embed unit vectors", arguments: ["cnn-mgs", "cnn-cells", "vit"])
    func towerKinds(kind: String) throws {
        var configuration = kind == "vit" ? ModelFixtures.vit : ModelFixtures.cnn
        if kind == "cnn-cells", case .resnet(let resnet, let imageSize, _) = configuration.image.backbone {
            configuration.image.backbone = .resnet(resnet, imageSize: imageSize, pooling: .cells)
        }
        let model = try BriVLModel(configuration, generator: Generator(seed: 4))
        let batch = try ModelFixtures.batch(3, seed: 5)
        let embedding = try model.encodeImage(batch.images)
        let norms = try embedding.norm(2, dimensions: [1]).toArray(Double.self)
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-5 })
        #expect(model.imageTower.regionPooling == nil || kind == "cnn-mgs")
    }

    @Test("the checkpoint keys name towers, backbone parts and the temperature")
    func checkpointKeys() throws {
        let keys = Set(try BriVLModel(ModelFixtures.cnn).stateDict().map(\.key))
        #expect(keys.contains("logit_scale"))
        #expect(keys.contains("image_tower.region_pooling.projection.weight"))
        #expect(keys.contains("text_tower.bert.embeddings.word_embeddings.weight"))
        #expect(keys.contains("text_tower.head.projection.layers.1.bias"))
        #expect(keys.contains { $0.hasPrefix("image_tower.resnet.") && $0.hasSuffix("running_mean") })
    }

    @Test("freezing BERT keeps only the last layers and the head trainable")
    func freezeBERT() throws {
        let tower = try TextTower(ModelFixtures.text(layers: 3))
        try tower.freezeBERT(keepingLastLayers: 1)
        let trainable = tower.namedParameters().filter { $0.tensor.requiresGrad }.map(\.key)
        #expect(trainable.allSatisfy { $0.hasPrefix("bert.encoder.layer.2.") || $0.hasPrefix("head.") })
        #expect(trainable.contains { $0.hasPrefix("head.") })
        #expect(throws: ModelError.self) { try tower.freezeBERT(keepingLastLayers: 4) }
    }

    @Test("hidden_act reads Hugging Face's names and refuses others when the configuration is read")
    func bertActivationNames() throws {
        func decode(_ act: String) throws -> BertConfiguration {
            let json = #"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "#
                + #""intermediate_size": 16, "hidden_act": "\#(act)", "max_position_embeddings": 16, "#
                + #""type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0, "#
                + #""attention_probs_dropout_prob": 0}"#
            return try JSONDecoder().decode(BertConfiguration.self, from: Data(json.utf8))
        }
        #expect(try decode("gelu").hiddenActivation.function == .gelu)
        #expect(try decode("gelu_new").hiddenActivation.function == .geluTanh)
        #expect(try decode("gelu_pytorch_tanh").hiddenActivation == .geluPytorchTanh)
        #expect(try decode("relu").hiddenActivation.function == .relu)
        #expect(throws: DecodingError.self) { try decode("swish") }
        let written = try JSONEncoder().encode(try decode("gelu_new"))
        #expect(String(decoding: written, as: UTF8.self).contains(#""hidden_act":"gelu_new""#))
    }
}
