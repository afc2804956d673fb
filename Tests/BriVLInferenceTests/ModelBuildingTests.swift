import BriVL
import ModelTestSupport
import Testing
import Tokenization
import Torch
import TorchNN

@testable import BriVLInference

@Suite("Building a model from weights, evaluation mode, batched embedding")
struct ModelBuildingTests {
    static let vocabulary = try! Vocabulary(
        tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + Array("红色的连衣裙一双运动鞋黄蓝包").map(String.init))
    static let tokenizer = try! BertTokenizer(vocabulary: vocabulary, configuration: .chineseCLIP)

    @Test("a model built from weights equals the one they came from, and building it draws no random number")
    func loadingDrawsNothing() throws {
        let configuration = TinyModels.configuration(vocabularySize: Self.vocabulary.count)
        let original = try BriVLModel(configuration, generator: try Generator(seed: 3))
        let weights = Dictionary(uniqueKeysWithValues: original.stateDict().map { ($0.key, $0.tensor) })

        let loaded = try BriVLModel.loading(configuration, weights: weights)
        // Built without values, even a model given a generator leaves it untouched (the ResNet's own re-initialisation
        // included).
        let generator = try Generator(seed: 5)
        _ = try Initialization.withoutValues { try BriVLModel(configuration, generator: generator) }
        #expect(try Tensor.rand([4], generator: generator).equals(Tensor.rand([4], generator: Generator(seed: 5))))
        for (key, tensor) in loaded.stateDict() { #expect(try tensor.equals(weights[key]!), "\(key)") }
    }

    @Test("a weight left out, an extra one or a misshapen one is an error naming it")
    func loadingChecksEveryKey() throws {
        let configuration = TinyModels.configuration(vocabularySize: Self.vocabulary.count)
        let original = try BriVLModel(configuration, generator: try Generator(seed: 3))
        var weights = Dictionary(uniqueKeysWithValues: original.stateDict().map { ($0.key, $0.tensor) })
        weights.removeValue(forKey: "logit_scale")
        #expect(throws: ModuleError.missingKeys(["logit_scale"])) { try BriVLModel.loading(configuration, weights: weights) }
        weights["logit_scale"] = try Tensor.zeros([2])
        #expect(throws: ModuleError.shapeMismatch(key: "logit_scale", expected: [], actual: [2])) {
            try BriVLModel.loading(configuration, weights: weights)
        }
        weights["logit_scale"] = try Tensor.zeros([])
        weights["extra"] = try Tensor.zeros([1])
        #expect(throws: ModuleError.unexpectedKeys(["extra"])) { try BriVLModel.loading(configuration, weights: weights) }
    }

    @Test("evaluation mode is scoped: every module gets back the mode it had, mixed modes included")
    func evaluationModeIsRestored() throws {
        let model = try BriVLModel(TinyModels.configuration(vocabularySize: Self.vocabulary.count))
        model.train()
        let bert = try #require(model.textTower.bert)
        bert.eval()
        let before = ([model] + model.namedModules().map(\.module)).map(\.training)
        #expect(before.contains(true) && before.contains(false))
        let inside = model.withEvaluationMode { ([model] + model.namedModules().map(\.module)).map(\.training) }
        #expect(!inside.contains(true))
        #expect(([model] + model.namedModules().map(\.module)).map(\.training) == before)
    }

    @Test("texts embed the same in batches of one, in one pass and through the text tower directly")
    func batchedTextEmbedding() throws {
        let model = try BriVLModel(
            TinyModels.configuration(vocabularySize: Self.vocabulary.count, dropout: 0.3), generator: try Generator(seed: 1))
        model.train()
        let texts = ["红色的连衣裙", "一双运动鞋", "黄色的包", "蓝色的连衣裙", "一双红色的运动鞋"]
        let single = try TowerEmbedder(model: model, tokenizer: Self.tokenizer, batchSize: 1).embedTexts(texts)
        let whole = try TowerEmbedder(model: model, tokenizer: Self.tokenizer, batchSize: 64).embedTexts(texts)
        #expect(single.shape == [5, model.configuration.embeddingSize])
        #expect(try (single - whole).abs().max().item() < 1e-5)
        #expect(model.training, "the model's mode was not put back")
        let input = try TextInput(texts, for: model, tokenizer: Self.tokenizer)
        #expect(input.tokenIDs.shape == [5, model.configuration.text.maxLength])
        let direct = try model.withEvaluationMode { try withNoGrad { try model.encodeText(input) } }
        #expect(try (direct - whole).abs().max().item() < 1e-5)
        #expect(throws: InferenceError.self) { try TowerEmbedder(model: model, tokenizer: Self.tokenizer).embedTexts([]) }
    }

    @Test("zero-shot classes are the normalised mean of their prompts' embeddings")
    func classEmbeddings() throws {
        let model = try BriVLModel(
            TinyModels.configuration(vocabularySize: Self.vocabulary.count), generator: try Generator(seed: 2))
        let embedder = TowerEmbedder(model: model, tokenizer: Self.tokenizer)
        let prompts = [["红色的连衣裙", "一件红色的连衣裙"], ["一双运动鞋"]]
        let classes = try ZeroShotClassifier(
            model: model, tokenizer: Self.tokenizer, classNames: ["连衣裙", "运动鞋"], prompts: prompts)
        for (index, group) in prompts.enumerated() {
            let mean = try embedder.embedTexts(group).mean(dimension: 0)
            let expected = try Functional.normalize(mean, dimension: 0)
            #expect(try (classes.classEmbeddings.selected(dimension: 0, index: index) - expected).abs().max().item() < 1e-5)
        }
        let images = try embedder.embedTexts(["红色的连衣裙", "一双运动鞋"])
        #expect(try classes.predict(imageEmbeddings: images).count == 2)
        #expect(throws: InferenceError.self) {
            try ZeroShotClassifier(model: model, tokenizer: Self.tokenizer, classNames: ["a"], templates: ["no slot"])
        }
    }
}
