import Foundation
import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

// The head's values are checked end to end against cn_clip's AttentionPool2d by the Chinese-CLIP RN import's parity
// test; these check its gradients, its configuration and what it refuses.
@Suite("Attention-pool head (CLIP's RN50 attnpool)")
struct AttentionPoolHeadTests {
    @Test("gradients w.r.t. the cells and every parameter match finite differences")
    func gradients() throws {
        let head = try AttentionPoolHead(inputSize: 4, cellCount: 3, headCount: 2, outputSize: 3, generator: Generator(seed: 5))
        try head.to(dtype: .float64)
        let cells = try Tensor.randn([2, 3, 4], dtype: .float64, generator: Generator(seed: 6))
        let parameters = head.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        #expect(Set(parameters.map(\.name)).isSuperset(of: ["positional_embedding", "query.weight", "output.bias"]))
        let report = try gradientReport([("cells", cells)] + parameters) { try head(cells) }
        #expect(report.passed, "\(report)")
    }

    @Test("embeddings are unit vectors, and the positions make the cells' order matter")
    func output() throws {
        let head = try AttentionPoolHead(inputSize: 8, cellCount: 4, headCount: 2, outputSize: 5, generator: Generator(seed: 7))
        let cells = try Tensor.randn([3, 4, 8], generator: Generator(seed: 8))
        let embedding = try head(cells)
        #expect(embedding.shape == [3, 5])
        let norms = try (embedding * embedding).sum(dimension: 1).sqrt().toArray(Float.self)
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-5 })
        let reversed = try cells.indexSelect(dimension: 1, index: Tensor([3, 2, 1, 0] as [Int64], shape: [4]))
        #expect(try !head(reversed).isClose(to: embedding, rtol: 1e-3, atol: 1e-3))
    }

    @Test("the wrong number of cells, padding, and towers it does not fit are refused")
    func refusals() throws {
        let head = try AttentionPoolHead(inputSize: 8, cellCount: 4, headCount: 2, outputSize: 5)
        #expect(throws: ModelError.self) { try head(Tensor.randn([1, 5, 8])) }
        #expect(throws: ModelError.self) { try head(Tensor.randn([1, 4, 8]), paddingMask: Tensor.zeros([1, 4], dtype: .bool)) }
        #expect(throws: ModelError.self) { try AttentionPoolHead(inputSize: 8, cellCount: 4, headCount: 3, outputSize: 5) }

        let resnet = ResNetConfiguration(block: .bottleneck, depths: [1, 1], widths: [2, 4], stem: .deep, downsampling: .averagePool, stemWidth: 4)
        // 32 px → 8 (stem) → 8 → 4: 16 cells of 16 channels.
        let fits = ImageTowerConfiguration(
            backbone: .resnet(resnet, imageSize: 32, pooling: .cells),
            head: .attentionPool(inputSize: 16, cellCount: 16, headCount: 2, outputSize: 6))
        let tower = try ImageTower(fits)
        #expect(try tower(Tensor.randn([2, 3, 32, 32])).shape == [2, 6])

        var wrongSize = fits
        wrongSize.backbone = .resnet(resnet, imageSize: 64, pooling: .cells)
        #expect(throws: ModelError.self) { try wrongSize.validate() }
        var regions = fits
        regions.backbone = .resnet(resnet, imageSize: 32, pooling: .multiGridSplit(grids: [1, 2], samplesPerSide: 2))
        #expect(throws: ModelError.self) { try regions.validate() }
        let text = TextTowerConfiguration(
            bert: BertConfiguration(vocabularySize: 10, hiddenSize: 16, layerCount: 1, headCount: 2, intermediateSize: 8),
            head: .attentionPool(inputSize: 16, cellCount: 4, headCount: 2, outputSize: 6), maxLength: 8)
        #expect(throws: ModelError.self) { try text.validate() }
    }

    @Test("the configuration round-trips as a tagged JSON object")
    func coding() throws {
        let head = TowerHeadConfiguration.attentionPool(inputSize: 2048, cellCount: 49, headCount: 32, outputSize: 1024)
        let json = String(decoding: try JSONEncoder().encode(head), as: UTF8.self)
        for key in ["\"kind\":\"attention_pool\"", "\"cells\":49", "\"heads\":32", "\"input_size\":2048"] {
            #expect(json.contains(key), "\(key) in \(json)")
        }
        #expect(try JSONDecoder().decode(TowerHeadConfiguration.self, from: Data(json.utf8)) == head)
    }
}
