import Torch
import TorchNN

@testable import BriVL

/// Very small models for tests: a few thousand parameters, 16-pixel images, 8-token captions.
enum ModelFixtures {
    static let vocabularySize = 40

    static func text(layers: Int = 1, dropout: Double = 0) -> TextTowerConfiguration {
        TextTowerConfiguration(
            bert: BertConfiguration(
                vocabularySize: vocabularySize, hiddenSize: 8, layerCount: layers, headCount: 2, intermediateSize: 16,
                maxPositions: 16, hiddenDropout: dropout, attentionDropout: dropout),
            head: EmbeddingHeadConfiguration(inputSize: 8, layerCount: 1, headCount: 2, projectionSizes: [12, 6]),
            maxLength: 8)
    }

    static var cnn: BriVLConfiguration {
        let resnet = ResNetConfiguration(block: .basic, depths: [1, 1], widths: [4, 8], stem: .small)
        return BriVLConfiguration(
            name: "test-cnn",
            image: ImageTowerConfiguration(
                imageSize: 16, resnet: resnet, grids: [1, 2], samplesPerSide: 2,
                head: EmbeddingHeadConfiguration(inputSize: 8, layerCount: 1, headCount: 2, projectionSizes: [12, 6])),
            text: text())
    }

    static var vit: BriVLConfiguration {
        BriVLConfiguration(
            name: "test-vit",
            image: ImageTowerConfiguration(
                vit: VisionTransformerConfiguration(imageSize: 16, patchSize: 8, width: 8, layerCount: 1, headCount: 2),
                head: EmbeddingHeadConfiguration(inputSize: 8, layerCount: 1, headCount: 2, projectionSizes: [12, 6])),
            text: text())
    }

    /// A batch of `count` random images and captions of 3–8 tokens ([CLS]=1, [SEP]=2, padding 0, [MASK]=3).
    static func batch(_ count: Int, seed: UInt64, dtype: DType = .float32) throws -> (
        images: Tensor, tokenIDs: Tensor, attentionMask: Tensor
    ) {
        let generator = try Generator(seed: seed)
        let images = try Tensor.randn([count, 3, 16, 16], dtype: dtype, generator: generator)
        let lengths = try Tensor.randint(3..<9, shape: [count], generator: generator).toArray(Int64.self)
        let words = try Tensor.randint(4..<vocabularySize, shape: [count, 8], generator: generator).toArray(Int64.self)
        var ids: [Int64] = []
        var mask: [Int64] = []
        for row in 0..<count {
            let length = Int(lengths[row])
            for column in 0..<8 {
                let id: Int64 = column == 0 ? 1 : column == length - 1 ? 2 : column < length ? words[row * 8 + column] : 0
                ids.append(id)
                mask.append(column < length ? 1 : 0)
            }
        }
        return (images, try Tensor(ids, shape: [count, 8]), try Tensor(mask, shape: [count, 8]))
    }

    static let masking = MaskingVocabulary(maskID: 3, specialIDs: [0, 1, 2], size: vocabularySize)
}
