import FileTestSupport
import Foundation
import Testing
import Tokenization
import Torch
import TorchNN

@testable import BriVL

/// The BERT checkpoint and NumPy reference outputs prepared by scripts/fetch-test-data.sh, in `$BRIVL_TEST_DATA` or
/// `<package root>/.cache/test-data`.
private enum BertTestData {
    static var directory: URL { TestDataLocation.directory }

    static var model: URL { directory.appendingPathComponent("minilm") }
    static var references: URL { directory.appendingPathComponent("bert_references.json") }

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: model.appendingPathComponent("model.safetensors").path)
            && FileManager.default.fileExists(atPath: references.path)
    }

    /// CI sets BRIVL_REQUIRE_TEST_DATA=1 after fetching, so that missing data fails instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["BRIVL_REQUIRE_TEST_DATA"] == "1" }

    struct References: Decodable {
        let sentences: [String]
        let shape: [Int]
        let ids: [[Int]]
        let mask: [[Int]]
        let lastHiddenState: [Double]
        let meanPooled: [Double]

        enum CodingKeys: String, CodingKey {
            case sentences, shape, ids, mask
            case lastHiddenState = "last_hidden_state"
            case meanPooled = "mean_pooled"
        }
    }
}

@Suite("BERT encoder against a real checkpoint")
struct BertParityTests {
    @Test(
        "all-MiniLM-L6-v2 loads by its HF keys; hidden states and mean pooling match the NumPy reference within 1e-4",
        .enabled(
            if: BertTestData.isAvailable || BertTestData.isRequired,
            "needs the data of scripts/fetch-test-data.sh (BRIVL_REQUIRE_TEST_DATA=1 turns its absence into a failure)"))
    func minilmParity() throws {
        try #require(BertTestData.isAvailable, "BERT parity data missing in \(BertTestData.directory.path): run scripts/fetch-test-data.sh")
        let references = try JSONDecoder().decode(
            BertTestData.References.self, from: Data(contentsOf: BertTestData.references))
        let configuration = try BertConfiguration.read(from: BertTestData.model.appendingPathComponent("config.json").path)
        #expect(configuration.layerCount == 6 && configuration.hiddenSize == 384 && configuration.headCount == 12)

        // Our tokenizer gives the reference's ids on the same sentences.
        let tokenizer = try BertTokenizer(
            vocabularyFile: BertTestData.model.appendingPathComponent("vocab.txt"),
            configuration: BertTokenizerConfiguration())
        let length = references.shape[1]
        let batch = tokenizer.encodeBatch(references.sentences, maxLength: length, padding: .maxLength)
        #expect(batch.shape == [references.sentences.count, length])
        for row in 0..<references.sentences.count {
            #expect(batch.ids(row: row).map(Int.init) == references.ids[row], "sentence \(row): \(references.sentences[row])")
        }

        let model = try BertModel(configuration)
        try model.loadHuggingFaceWeights(Safetensors.load(BertTestData.model.appendingPathComponent("model.safetensors").path))
        model.eval()
        let ids = try Tensor(batch.ids, shape: batch.shape)
        let mask = try Tensor(batch.attentionMask, shape: batch.shape)
        let output = try withInferenceMode { try model(ids, attentionMask: mask) }
        #expect(output.lastHiddenState.shape == references.shape)

        func maxDifference(_ tensor: Tensor, _ expected: [Double]) throws -> Double {
            let actual = try tensor.toArray(Double.self)
            return zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        }
        // Padded positions have no reference meaning beyond what the reference computed for them too: compare all.
        let hiddenDifference = try maxDifference(output.lastHiddenState, references.lastHiddenState)
        let pooledDifference = try maxDifference(output.meanPooled, references.meanPooled)
        print("BERT parity on \(references.sentences.count) sentences: max |Δ| hidden \(hiddenDifference), pooled \(pooledDifference)")
        #expect(hiddenDifference <= 1e-4, "max |Δ| of the last hidden states: \(hiddenDifference)")
        #expect(pooledDifference <= 1e-4, "max |Δ| of the mean-pooled embeddings: \(pooledDifference)")
    }

    @Test("every parameter has a HF key; a checkpoint missing one fails with that key")
    func checkpointKeys() throws {
        let configuration = BertConfiguration(
            vocabularySize: 50, hiddenSize: 8, layerCount: 2, headCount: 2, intermediateSize: 16)
        let model = try BertModel(configuration, generator: Generator(seed: 1))
        let keys = Set(model.stateDict().map(\.key))
        #expect(keys.contains("embeddings.LayerNorm.weight"))
        #expect(keys.contains("encoder.layer.1.attention.self.query.weight"))
        #expect(keys.contains("encoder.layer.0.attention.output.LayerNorm.bias"))
        #expect(keys.contains("encoder.layer.0.intermediate.dense.weight"))
        #expect(keys.contains("encoder.layer.1.output.dense.bias"))
        #expect(keys.count == 5 + 2 * 16)

        var state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ("bert." + $0.key, $0.tensor) })
        state["bert.embeddings.position_ids"] = try Tensor.arange(512).unsqueezed(0)
        let copy = try BertModel(configuration, generator: Generator(seed: 2))
        try copy.loadHuggingFaceWeights(state)
        let ids = try Tensor([2, 7, 9, 0] as [Int64], shape: [1, 4])
        let mask = try Tensor([1, 1, 1, 0] as [Int64], shape: [1, 4])
        model.eval()
        copy.eval()
        #expect(try model(ids, attentionMask: mask).lastHiddenState.equals(copy(ids, attentionMask: mask).lastHiddenState))

        state.removeValue(forKey: "bert.encoder.layer.1.output.dense.bias")
        #expect(throws: ModuleError.missingKeys(["encoder.layer.1.output.dense.bias"])) {
            try copy.loadHuggingFaceWeights(state)
        }
    }

    @Test("padding does not change a sentence's mean-pooled embedding")
    func paddingInvariance() throws {
        let configuration = BertConfiguration(
            vocabularySize: 50, hiddenSize: 8, layerCount: 2, headCount: 2, intermediateSize: 16)
        let model = try BertModel(configuration, generator: Generator(seed: 3))
        model.eval()
        let short = try model(Tensor([1, 5, 6, 2] as [Int64], shape: [1, 4]), attentionMask: Tensor.ones([1, 4], dtype: .int64))
        let padded = try model(
            Tensor([1, 5, 6, 2, 0, 0] as [Int64], shape: [1, 6]),
            attentionMask: Tensor([1, 1, 1, 1, 0, 0] as [Int64], shape: [1, 6]))
        #expect(try short.meanPooled.isClose(to: padded.meanPooled, rtol: 1e-5, atol: 1e-6))
        #expect(throws: ModelError.self) {
            try model(Tensor.zeros([1, 600], dtype: .int64), attentionMask: Tensor.ones([1, 600], dtype: .int64))
        }
    }
}
