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
        mismatched.text.head.projectionSizes = [12, 7]
        #expect(throws: ModelError.self) { try mismatched.validate() }
        var wrongWidth = ModelFixtures.cnn
        wrongWidth.image.head.inputSize = 5
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
        if kind == "cnn-cells" { configuration.image.pooling = .cells }
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
}

@Suite("Retrieval and zero-shot metrics")
struct EvaluationMetricTests {
    @Test("recall@k from a known score matrix, both directions; ties count against the match")
    func knownRecall() throws {
        // With identity image embeddings the scores are the text matrix transposed: scores = M with
        // M = [[1, .5, .2], [0, .5, .6], [.9, .8, .1]].
        // Rows (image→text): ranks 0, 1, 2.  Columns (text→image): ranks 0, 2 (a tie at .5 and .8), 2.
        let images = try Tensor([1, 0, 0, 0, 1, 0, 0, 0, 1] as [Double], shape: [3, 3])
        let texts = try Tensor([1, 0, 0.9, 0.5, 0.5, 0.8, 0.2, 0.6, 0.1] as [Double], shape: [3, 3])
        let metrics = try RetrievalMetrics.measure(images: images, texts: texts, ks: [1, 2, 3])
        #expect(metrics.imageToText == [1: 1.0 / 3, 2: 2.0 / 3, 3: 1])
        #expect(metrics.textToImage == [1: 1.0 / 3, 2: 1.0 / 3, 3: 1])
        #expect(metrics.pairs == 3)
    }

    @Test("a model that scores everything alike gets no credit, a perfect one gets full recall")
    func degenerateAndPerfect() throws {
        let same = try Tensor.ones([5, 4]) / 2
        let flat = try RetrievalMetrics.measure(images: same, texts: same, ks: [1, 5])
        #expect(flat.imageToText[1] == 0)
        #expect(flat.imageToText[5] == 1)
        var identity = [Float](repeating: 0, count: 25)
        for i in 0..<5 { identity[i * 6] = 1 }
        let eye = try Tensor(identity, shape: [5, 5])
        let perfect = try RetrievalMetrics.measure(images: eye, texts: eye, ks: [1])
        #expect(perfect.imageToText[1] == 1 && perfect.textToImage[1] == 1 && perfect.meanRecall == 1)
    }
}
