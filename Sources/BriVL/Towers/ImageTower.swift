import Torch
import TorchNN

/// The image tower: backbone → set of vectors (MGS regions, feature-map cells or ViT tokens) → embedding head.
public final class ImageTower: Module {
    public let resnet: ResNet?
    public let regionPooling: MultiGridSplitPooling?
    public let vit: VisionTransformer?
    public let head: any TowerHead
    public let configuration: ImageTowerConfiguration

    public init(_ configuration: ImageTowerConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        switch configuration.backbone {
        case .resnet(let resnetConfiguration, _, let pooling):
            let resnet = try ResNet(resnetConfiguration, generator: generator)
            self.resnet = resnet
            switch pooling {
            case .multiGridSplit(let grids, let samplesPerSide):
                regionPooling = try MultiGridSplitPooling(
                    channels: resnet.outputChannels, grids: grids, samplesPerSide: samplesPerSide, generator: generator)
            case .cells:
                regionPooling = nil
            }
            vit = nil
        case .vit(let vitConfiguration):
            resnet = nil
            regionPooling = nil
            vit = try VisionTransformer(vitConfiguration, generator: generator)
        }
        head = try makeTowerHead(configuration.head, generator: generator)
    }

    /// The vectors the head reads: [batch, count, width].
    public func features(_ images: Tensor) throws -> Tensor {
        let size = configuration.imageSize
        guard images.rank == 4, images.size(1) == 3, images.size(2) == size, images.size(3) == size else {
            throw ModelError.invalidInput("the image tower takes [batch, 3, \(size), \(size)] images, got \(images.shape)")
        }
        if let vit { return try vit(images) }
        guard let resnet else { throw ModelError.invalidConfiguration("an image tower without a backbone") }
        let map = try resnet(images)
        if let regionPooling { return try regionPooling(map) }
        return try map.flattened(from: 2).transposed(1, 2)
    }

    /// - Parameter images: [batch, 3, size, size], normalised
    /// - Returns: [batch, embedding], L2-normalised
    public func callAsFunction(_ images: Tensor) throws -> Tensor {
        try head(features(images))
    }
}
