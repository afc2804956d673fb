import BriVL

/// The smallest useful BriVL for tests: a two-stage ResNet at 16 pixels with Multi-Grid-Split pooling over grids
/// [1, 2] (5 regions), a one-layer BERT, and one-layer embedding heads, all `width` wide. A forward and backward
/// pass takes milliseconds, so training, evaluation and explanation tests can run real steps.
public enum TinyModels {
    /// - Parameters:
    ///   - vocabularySize: the tokenizer's size (0 where the trainer fills it in from the vocabulary file)
    ///   - width: channels of the last ResNet stage, BERT's hidden size and the joint embedding size
    ///   - maxLength: tokens per text (BERT gets at least 16 positions)
    ///   - dropout: BERT's hidden dropout; it draws from the engine's global generator unless the model is given its own (`drawDropout(from:)`)
    public static func configuration(
        name: String = "test", vocabularySize: Int, width: Int = 8, maxLength: Int = 12, dropout: Double = 0
    ) -> BriVLConfiguration {
        let resnet = ResNetConfiguration(block: .basic, depths: [1, 1], widths: [width / 2, width], stem: .small)
        let head = EmbeddingHeadConfiguration(
            inputSize: width, layerCount: 1, headCount: 2, projectionSizes: [2 * width, width])
        return BriVLConfiguration(
            name: name,
            image: ImageTowerConfiguration(imageSize: 16, resnet: resnet, grids: [1, 2], samplesPerSide: 2, head: head),
            text: TextTowerConfiguration(
                bert: BertConfiguration(
                    vocabularySize: vocabularySize, hiddenSize: width, layerCount: 1, headCount: 2,
                    intermediateSize: 2 * width, maxPositions: Swift.max(16, maxLength), hiddenDropout: dropout,
                    attentionDropout: 0),
                head: head, maxLength: maxLength))
    }
}
