import Foundation
import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

// Values are checked end to end against open_clip's TextTransformer by the OpenCLIP import's parity test; these
// check causality, the end-token head, gradients, the configuration and what is refused.
@Suite("CLIP's causal text Transformer and the end-token head")
struct CausalTextTransformerTests {
    private let small = CausalTextConfiguration(vocabularySize: 20, positions: 8, width: 8, layerCount: 2, headCount: 2)

    @Test("a token's state depends on the tokens before it only")
    func causality() throws {
        let encoder = try CausalTextTransformer(small, generator: Generator(seed: 1))
        let ids = try Tensor([3, 5, 7, 9, 11] as [Int64], shape: [1, 5])
        let changed = try Tensor([3, 5, 7, 2, 11] as [Int64], shape: [1, 5])
        let (a, b) = (try encoder(ids), try encoder(changed))
        let prefix = { (t: Tensor) in try t.narrowed(dimension: 1, start: 0, length: 3) }
        #expect(try prefix(a).isClose(to: prefix(b), rtol: 0, atol: 1e-6))
        #expect(try !a.narrowed(dimension: 1, start: 3, length: 1).isClose(to: b.narrowed(dimension: 1, start: 3, length: 1), rtol: 1e-3, atol: 1e-3))
    }

    @Test("the end-token head reads each row's last real token, so padding after it changes nothing")
    func endToken() throws {
        let text = TextTowerConfiguration(
            encoder: .causal(small), head: .endToken(inputSize: 8, outputSize: 4), maxLength: 8)
        let tower = try TextTower(text, generator: Generator(seed: 2))
        let short = try tower(tokenIDs: Tensor([1, 4, 6] as [Int64], shape: [1, 3]), attentionMask: Tensor.ones([1, 3], dtype: .int64))
        let padded = try tower(
            tokenIDs: Tensor([1, 4, 6, 0, 0, 1, 4, 6, 9, 2] as [Int64], shape: [2, 5]),
            attentionMask: Tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1] as [Int64], shape: [2, 5]))
        #expect(try padded.narrowed(dimension: 0, start: 0, length: 1).isClose(to: short, rtol: 0, atol: 1e-6))
        #expect(try !padded.narrowed(dimension: 0, start: 1, length: 1).isClose(to: short, rtol: 1e-3, atol: 1e-3))
        #expect(throws: ModelError.self) {
            try tower(tokenIDs: Tensor.zeros([1, 3], dtype: .int64), attentionMask: Tensor.zeros([1, 3], dtype: .int64))
        }
    }

    @Test("gradients w.r.t. the token vectors and every parameter match finite differences")
    func gradients() throws {
        let text = TextTowerConfiguration(
            encoder: .causal(CausalTextConfiguration(vocabularySize: 6, positions: 4, width: 4, layerCount: 1, headCount: 2)),
            head: .endToken(inputSize: 4, outputSize: 3), maxLength: 4)
        let tower = try TextTower(text, generator: Generator(seed: 3))
        try tower.to(dtype: .float64)
        let vectors = try Tensor.randn([2, 3, 4], dtype: .float64, generator: Generator(seed: 4))
        let mask = try Tensor([1, 1, 1, 1, 1, 0] as [Int64], shape: [2, 3])
        let parameters = tower.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
            .filter { $0.name != "causal.token_embedding.weight" }  // not on the path from vectors
        let report = try gradientReport([("vectors", vectors)] + parameters) {
            try tower.encode(wordVectors: vectors, attentionMask: mask)
        }
        #expect(report.passed, "\(report)")
    }

    @Test("configurations round-trip; BERT keeps writing `bert`, a causal encoder writes `causal`")
    func coding() throws {
        let causal = TextTowerConfiguration(
            encoder: .causal(.clipBase), head: .endToken(inputSize: 512, outputSize: 512), maxLength: 77)
        let json = String(decoding: try JSONEncoder().encode(causal), as: UTF8.self)
        #expect(json.contains("\"causal\"") && json.contains("\"kind\":\"end_token\"") && !json.contains("\"bert\""))
        #expect(try JSONDecoder().decode(TextTowerConfiguration.self, from: Data(json.utf8)) == causal)
        let bert = BriVLConfiguration.tiny.text
        let bertJSON = String(decoding: try JSONEncoder().encode(bert), as: UTF8.self)
        #expect(bertJSON.contains("\"bert\"") && !bertJSON.contains("\"causal\""))
        #expect(try JSONDecoder().decode(TextTowerConfiguration.self, from: Data(bertJSON.utf8)) == bert)
    }

    @Test("heads and lengths that do not fit are refused, and BERT-only features name the causal tower")
    func refusals() throws {
        #expect(throws: ModelError.self) {
            try TextTowerConfiguration(encoder: .causal(small), head: .endToken(inputSize: 8, outputSize: 4), maxLength: 9).validate()
        }
        #expect(throws: ModelError.self) {
            try TextTowerConfiguration(encoder: .causal(small), head: .endToken(inputSize: 6, outputSize: 4), maxLength: 8).validate()
        }
        #expect(throws: ModelError.self) {
            try TextTowerConfiguration(
                bert: BriVLConfiguration.tiny.text.bert!, head: .endToken(inputSize: 128, outputSize: 4), maxLength: 8
            ).validate()
        }
        #expect(throws: ModelError.self) {
            try TextTowerConfiguration(encoder: .causal(small), head: .classToken(inputSize: 8, outputSize: 4), maxLength: 8).validate()
        }
        #expect(throws: ModelError.self) {
            try CausalTextConfiguration(vocabularySize: 20, positions: 8, width: 8, layerCount: 1, headCount: 3).validate()
        }
        let tower = try TextTower(
            TextTowerConfiguration(encoder: .causal(small), head: .endToken(inputSize: 8, outputSize: 4), maxLength: 8))
        do {
            try tower.freezeBERT(keepingLastLayers: 1)
            Issue.record("a causal tower was frozen as BERT")
        } catch let error as ModelError {
            #expect("\(error)".contains("causal"), "\(error)")
        }
        #expect(throws: ModelError.self) { try tower(tokenIDs: Tensor.zeros([1, 9], dtype: .int64), attentionMask: Tensor.ones([1, 9], dtype: .int64)) }
    }
}
