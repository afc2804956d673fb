extension BriVLConfiguration {
    /// The names of the presets, smallest first (``ModelPreset``).
    public static var presetNames: [String] { ModelPreset.allNames }

    /// A preset by name (see ``ModelPreset``).
    public static func preset(named name: String) throws -> BriVLConfiguration {
        try ModelPreset(named: name).configuration
    }

    /// Trains in minutes on two CPU cores: 64-pixel images, a narrow ResNet with MGS pooling over grids
    /// [1, 2, 4], a two-layer BERT over the 21,128-entry Chinese vocabulary, a 128-dimensional joint space.
    public static var tiny: BriVLConfiguration {
        // Half the widths of ResNetConfiguration.tiny: a quarter of the work, so a few minutes see ~600 steps.
        let resnet = ResNetConfiguration(block: .basic, depths: [1, 1, 1, 1], widths: [16, 32, 64, 128], stem: .small)
        return BriVLConfiguration(
            name: "tiny",
            image: ImageTowerConfiguration(
                imageSize: 64, resnet: resnet, grids: [1, 2, 4], samplesPerSide: 2,
                head: EmbeddingHeadConfiguration(
                    inputSize: resnet.outputChannels, layerCount: 1, headCount: 4, projectionSizes: [256, 128])),
            text: TextTowerConfiguration(
                bert: BertConfiguration(
                    vocabularySize: 21128, hiddenSize: 128, layerCount: 2, headCount: 2, intermediateSize: 512,
                    maxPositions: 64, hiddenDropout: 0, attentionDropout: 0),
                head: EmbeddingHeadConfiguration(
                    inputSize: 128, layerCount: 1, headCount: 2, projectionSizes: [256, 128]),
                maxLength: 32))
    }

    /// ResNet-18 at 128 pixels with MGS over [1, 2, 4]; a four-layer, 256-wide BERT; a 512-dimensional space.
    public static var small: BriVLConfiguration {
        let resnet = ResNetConfiguration.resnet18
        return BriVLConfiguration(
            name: "small",
            image: ImageTowerConfiguration(
                imageSize: 128, resnet: resnet, grids: [1, 2, 4], samplesPerSide: 2,
                head: EmbeddingHeadConfiguration(
                    inputSize: resnet.outputChannels, layerCount: 2, headCount: 8, projectionSizes: [1024, 512])),
            text: TextTowerConfiguration(
                bert: BertConfiguration(
                    vocabularySize: 21128, hiddenSize: 256, layerCount: 4, headCount: 4, intermediateSize: 1024),
                head: EmbeddingHeadConfiguration(
                    inputSize: 256, layerCount: 2, headCount: 4, projectionSizes: [1024, 512]),
                maxLength: 64))
    }

    /// BriVL's released dimensions: a ResNet-50 (BriVL used EfficientNet-B7) at 384 pixels with MGS over [1, 6]
    /// and 4×4 samples, chinese-roberta-wwm-ext, four-layer four-head heads on both towers, projection
    /// 2048 → 2048.
    public static var base: BriVLConfiguration {
        let resnet = ResNetConfiguration.resnet50
        return BriVLConfiguration(
            name: "base",
            image: ImageTowerConfiguration(
                imageSize: 384, resnet: resnet, grids: [1, 6], samplesPerSide: 4,
                head: EmbeddingHeadConfiguration(
                    inputSize: resnet.outputChannels, layerCount: 4, headCount: 4, projectionSizes: [2048, 2048])),
            text: TextTowerConfiguration(
                bert: .chineseRobertaBase,
                head: EmbeddingHeadConfiguration(inputSize: 768, layerCount: 4, headCount: 4, projectionSizes: [2048, 2048]),
                maxLength: 80))
    }

    /// The peer's benchmark shape: ViT at 64 pixels, patch 8, width 256, 4 layers, 4 heads; a 4-layer 256-wide
    /// BERT over 32 tokens and the Chinese vocabulary; a 256-dimensional space with a single linear projection.
    public static var vitTiny: BriVLConfiguration {
        BriVLConfiguration(
            name: "vit-tiny",
            image: ImageTowerConfiguration(
                vit: .tiny, head: EmbeddingHeadConfiguration(inputSize: 256, layerCount: 0, projectionSizes: [256])),
            text: TextTowerConfiguration(
                bert: BertConfiguration(
                    vocabularySize: 21128, hiddenSize: 256, layerCount: 4, headCount: 4, intermediateSize: 1024,
                    maxPositions: 32, hiddenDropout: 0, attentionDropout: 0),
                head: EmbeddingHeadConfiguration(inputSize: 256, layerCount: 0, projectionSizes: [256]),
                maxLength: 32))
    }

    /// CLIP ViT-B/32's shape: 224 pixels, patch 32, width 768, 12 layers; a 12-layer 512-wide BERT over 77 tokens;
    /// a 512-dimensional space.
    public static var vitB32: BriVLConfiguration {
        BriVLConfiguration(
            name: "vit-b32",
            image: ImageTowerConfiguration(
                vit: .b32, head: EmbeddingHeadConfiguration(inputSize: 768, layerCount: 0, projectionSizes: [512])),
            text: TextTowerConfiguration(
                bert: BertConfiguration(
                    vocabularySize: 21128, hiddenSize: 512, layerCount: 12, headCount: 8, intermediateSize: 2048,
                    maxPositions: 77),
                head: EmbeddingHeadConfiguration(inputSize: 512, layerCount: 0, projectionSizes: [512]),
                maxLength: 77))
    }
}
