/// The image tower: a backbone, the way its output becomes a set of vectors, and the embedding head over that set.
///
/// A CNN backbone's feature map is turned into region vectors by Multi-Grid Split pooling (BriVL) or taken cell by
/// cell; a ViT backbone's tokens go to the head as they are.
public struct ImageTowerConfiguration: Codable, Sendable, Equatable {
    public enum Backbone: String, Codable, Sendable {
        case resnet
        case vit
    }

    /// How a CNN feature map becomes the set of vectors the head reads (ignored for a ViT).
    public enum Pooling: String, Codable, Sendable {
        /// BriVL's Multi-Grid Split pooling: one vector per cell of every grid.
        case multiGridSplit = "multi_grid_split"
        /// Every cell of the feature map is one vector (no region pooling).
        case cells
    }

    /// Side of the square input images, in pixels.
    public var imageSize: Int
    public var backbone: Backbone
    /// The CNN, when `backbone` is `.resnet`.
    public var resnet: ResNetConfiguration?
    /// The ViT, when `backbone` is `.vit`.
    public var vit: VisionTransformerConfiguration?
    public var pooling: Pooling
    /// MGS grid sizes (BriVL: [1, 6]).
    public var grids: [Int]
    /// MGS sampling points per cell side (BriVL: 4).
    public var samplesPerSide: Int
    public var head: EmbeddingHeadConfiguration

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case backbone, resnet, vit, pooling, grids
        case samplesPerSide = "samples_per_side"
        case head
    }

    public init(
        imageSize: Int, resnet: ResNetConfiguration, pooling: Pooling = .multiGridSplit, grids: [Int] = [1, 6],
        samplesPerSide: Int = 4, head: EmbeddingHeadConfiguration
    ) {
        self.imageSize = imageSize
        backbone = .resnet
        self.resnet = resnet
        vit = nil
        self.pooling = pooling
        self.grids = grids
        self.samplesPerSide = samplesPerSide
        self.head = head
    }

    public init(vit: VisionTransformerConfiguration, head: EmbeddingHeadConfiguration) {
        imageSize = vit.imageSize
        backbone = .vit
        resnet = nil
        self.vit = vit
        pooling = .cells
        grids = []
        samplesPerSide = 0
        self.head = head
    }

    /// Width of the vectors the backbone hands to the head.
    public var backboneWidth: Int {
        switch backbone {
        case .resnet: return resnet?.outputChannels ?? 0
        case .vit: return vit?.width ?? 0
        }
    }

    public func validate() throws {
        switch backbone {
        case .resnet:
            guard resnet != nil else { throw ModelError.invalidConfiguration("a resnet image tower needs `resnet`") }
            if pooling == .multiGridSplit, grids.isEmpty || grids.contains(where: { $0 <= 0 }) || samplesPerSide <= 0 {
                throw ModelError.invalidConfiguration("MGS pooling needs positive grids and samples per side")
            }
        case .vit:
            guard let vit else { throw ModelError.invalidConfiguration("a vit image tower needs `vit`") }
            guard vit.imageSize == imageSize else {
                throw ModelError.invalidConfiguration("image_size \(imageSize) differs from the ViT's \(vit.imageSize)")
            }
        }
        guard imageSize > 0 else { throw ModelError.invalidConfiguration("image_size must be positive") }
        guard head.inputSize == backboneWidth else {
            throw ModelError.invalidConfiguration(
                "the image head reads \(head.inputSize)-wide vectors but the backbone gives \(backboneWidth)")
        }
    }
}
