/// The image tower: a backbone, the way its output becomes a set of vectors, and the embedding head over that set.
///
/// A CNN backbone's feature map is turned into region vectors by Multi-Grid Split pooling (BriVL) or taken cell by
/// cell; a ViT backbone's tokens go to the head as they are. Each backbone carries only the settings that mean
/// something for it, so a ViT cannot be given grids nor a CNN be left without its layers.
public struct ImageTowerConfiguration: Sendable, Equatable {
    /// The network that turns pixels into vectors.
    public enum Backbone: Sendable, Equatable {
        /// A ResNet at `imageSize` pixels whose last feature map is pooled as `pooling` says.
        case resnet(ResNetConfiguration, imageSize: Int, pooling: FeatureMapPooling)
        /// A Vision Transformer; its own configuration fixes the input size.
        case vit(VisionTransformerConfiguration)
    }

    /// How a CNN feature map becomes the set of vectors the head reads.
    public enum FeatureMapPooling: Sendable, Equatable {
        /// BriVL's Multi-Grid Split pooling: one vector per cell of every grid, each the mean of
        /// `samplesPerSide`² bilinear samples (BriVL: grids [1, 6], 4 samples per side).
        case multiGridSplit(grids: [Int], samplesPerSide: Int)
        /// Every cell of the feature map is one vector (no region pooling).
        case cells
    }

    public var backbone: Backbone
    public var head: TowerHeadConfiguration

    public init(backbone: Backbone, head: TowerHeadConfiguration) {
        self.backbone = backbone
        self.head = head
    }

    /// A tower with BriVL's set head.
    public init(backbone: Backbone, head: EmbeddingHeadConfiguration) {
        self.init(backbone: backbone, head: .set(head))
    }

    /// A ResNet tower with MGS pooling over `grids` (the BriVL layout).
    public init(
        imageSize: Int, resnet: ResNetConfiguration, grids: [Int] = [1, 6], samplesPerSide: Int = 4,
        head: EmbeddingHeadConfiguration
    ) {
        self.init(
            backbone: .resnet(resnet, imageSize: imageSize, pooling: .multiGridSplit(grids: grids, samplesPerSide: samplesPerSide)),
            head: head)
    }

    public init(vit: VisionTransformerConfiguration, head: EmbeddingHeadConfiguration) {
        self.init(backbone: .vit(vit), head: .set(head))
    }

    public init(vit: VisionTransformerConfiguration, head: TowerHeadConfiguration) {
        self.init(backbone: .vit(vit), head: head)
    }

    /// Side of the square input images, in pixels.
    public var imageSize: Int {
        switch backbone {
        case .resnet(_, let imageSize, _): return imageSize
        case .vit(let vit): return vit.imageSize
        }
    }

    /// The ResNet, when the backbone is one.
    public var resnet: ResNetConfiguration? {
        if case .resnet(let resnet, _, _) = backbone { return resnet }
        return nil
    }

    /// The ViT, when the backbone is one.
    public var vit: VisionTransformerConfiguration? {
        if case .vit(let vit) = backbone { return vit }
        return nil
    }

    /// Width of the vectors the backbone hands to the head.
    public var backboneWidth: Int {
        switch backbone {
        case .resnet(let resnet, _, _): return resnet.outputChannels
        case .vit(let vit): return vit.width
        }
    }

    public func validate() throws {
        try head.validate()
        if case .classToken = head, case .resnet = backbone {
            throw ModelError.invalidConfiguration("a class-token head needs a ViT backbone: a ResNet has no class token")
        }
        if case .attentionPool(_, let cellCount, _, _) = head {
            guard case .resnet(let resnet, let imageSize, .cells) = backbone else {
                throw ModelError.invalidConfiguration(
                    "an attention-pool head reads the cells of a ResNet's feature map (pooling: cells)")
            }
            let map = resnet.outputSize(height: imageSize, width: imageSize)
            guard map.height * map.width == cellCount else {
                throw ModelError.invalidConfiguration(
                    "the attention-pool head has positions for \(cellCount) cells, but \(imageSize) px images give a "
                        + "\(map.height)×\(map.width) feature map")
            }
        }
        switch backbone {
        case .resnet(_, let imageSize, let pooling):
            guard imageSize > 0 else { throw ModelError.invalidConfiguration("image_size must be positive") }
            if case .multiGridSplit(let grids, let samplesPerSide) = pooling,
                grids.isEmpty || grids.contains(where: { $0 <= 0 }) || samplesPerSide <= 0
            {
                throw ModelError.invalidConfiguration("MGS pooling needs positive grids and samples per side")
            }
        case .vit(let vit):
            guard vit.imageSize > 0 else { throw ModelError.invalidConfiguration("image_size must be positive") }
        }
        guard head.inputSize == backboneWidth else {
            throw ModelError.invalidConfiguration(
                "the image head reads \(head.inputSize)-wide vectors but the backbone gives \(backboneWidth)")
        }
    }
}

// MARK: - JSON

/// The JSON keeps the flat layout every checkpoint so far was written with: a `backbone` tag beside `resnet` or
/// `vit`, `image_size`, `pooling`, `grids` and `samples_per_side`. A ViT tower is written with `pooling: cells`,
/// empty grids and the ViT's image size, as before, and those keys are ignored when one is read.
extension ImageTowerConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case backbone, resnet, vit, pooling, grids
        case samplesPerSide = "samples_per_side"
        case head
    }

    enum BackboneName: String, Codable {
        case resnet
        case vit
    }

    enum PoolingName: String, Codable {
        case multiGridSplit = "multi_grid_split"
        case cells
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        head = try container.decode(TowerHeadConfiguration.self, forKey: .head)
        switch try container.decode(BackboneName.self, forKey: .backbone) {
        case .resnet:
            let resnet = try container.decode(ResNetConfiguration.self, forKey: .resnet)
            let imageSize = try container.decode(Int.self, forKey: .imageSize)
            let pooling: FeatureMapPooling
            switch try container.decode(PoolingName.self, forKey: .pooling) {
            case .multiGridSplit:
                pooling = .multiGridSplit(
                    grids: try container.decode([Int].self, forKey: .grids),
                    samplesPerSide: try container.decode(Int.self, forKey: .samplesPerSide))
            case .cells:
                pooling = .cells
            }
            backbone = .resnet(resnet, imageSize: imageSize, pooling: pooling)
        case .vit:
            let vit = try container.decode(VisionTransformerConfiguration.self, forKey: .vit)
            if let imageSize = try container.decodeIfPresent(Int.self, forKey: .imageSize), imageSize != vit.imageSize {
                throw ModelError.invalidConfiguration("image_size \(imageSize) differs from the ViT's \(vit.imageSize)")
            }
            backbone = .vit(vit)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(head, forKey: .head)
        try container.encode(imageSize, forKey: .imageSize)
        switch backbone {
        case .resnet(let resnet, _, let pooling):
            try container.encode(BackboneName.resnet, forKey: .backbone)
            try container.encode(resnet, forKey: .resnet)
            switch pooling {
            case .multiGridSplit(let grids, let samplesPerSide):
                try container.encode(PoolingName.multiGridSplit, forKey: .pooling)
                try container.encode(grids, forKey: .grids)
                try container.encode(samplesPerSide, forKey: .samplesPerSide)
            case .cells:
                try container.encode(PoolingName.cells, forKey: .pooling)
                try container.encode([Int](), forKey: .grids)
                try container.encode(0, forKey: .samplesPerSide)
            }
        case .vit(let vit):
            try container.encode(BackboneName.vit, forKey: .backbone)
            try container.encode(vit, forKey: .vit)
            try container.encode(PoolingName.cells, forKey: .pooling)
            try container.encode([Int](), forKey: .grids)
            try container.encode(0, forKey: .samplesPerSide)
        }
    }
}
