import Foundation
import Torch
import TorchNN

/// The shape of a ``PictureAutoencoder``.
public struct AutoencoderConfiguration: Codable, Sendable, Equatable {
    /// Side of the square pictures, a multiple of 2^(number of widths).
    public var imageSize: Int
    /// Channels after each halving of the side.
    public var widths: [Int]
    /// Channels of the latent map.
    public var latentChannels: Int

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case widths
        case latentChannels = "latent_channels"
    }

    public init(imageSize: Int, widths: [Int] = [16, 32, 64], latentChannels: Int = 8) {
        self.imageSize = imageSize
        self.widths = widths
        self.latentChannels = latentChannels
    }

    /// Side of the latent map.
    public var latentSide: Int { imageSize >> widths.count }

    public func validate() throws {
        guard !widths.isEmpty, widths.allSatisfy({ $0 > 0 }), latentChannels > 0 else {
            throw InterpretError.invalidArgument("an autoencoder needs positive widths and latent channels")
        }
        guard imageSize > 0, latentSide > 0, latentSide << widths.count == imageSize else {
            throw InterpretError.invalidArgument(
                "a \(imageSize)-pixel picture cannot be halved \(widths.count) times; use a multiple of \(1 << widths.count)")
        }
    }
}

/// A small convolutional autoencoder of corpus pictures, so that concept images can be searched for among pictures
/// that look like the corpus: the latent map is optimised instead of pixels, and the decoder only draws what it
/// learnt to draw.
///
/// Encoder: 4×4 stride-2 convolutions halve the side per width, then a 1×1 convolution to the latent channels.
/// Decoder: a 1×1 convolution back, then per width a nearest-neighbour doubling and a 3×3 convolution, and a
/// final 3×3 convolution to RGB logits (a sigmoid gives pixels in (0, 1)).
public final class PictureAutoencoder: Module {
    public let downsampling: [Conv2d]
    public let toLatent: Conv2d
    public let fromLatent: Conv2d
    public let upsampling: [Conv2d]
    public let toPixels: Conv2d
    public let configuration: AutoencoderConfiguration

    public init(_ configuration: AutoencoderConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        let inputs = [3] + configuration.widths.dropLast()
        downsampling = try zip(inputs, configuration.widths).map {
            try Conv2d($0, $1, kernelSize: (4, 4), stride: (2, 2), padding: (1, 1), generator: generator)
        }
        let deepest = configuration.widths.last!
        toLatent = try Conv2d(deepest, configuration.latentChannels, kernelSize: (1, 1), generator: generator)
        fromLatent = try Conv2d(configuration.latentChannels, deepest, kernelSize: (1, 1), generator: generator)
        let reversed = Array(configuration.widths.reversed())
        let outputs = Array(reversed.dropFirst()) + [configuration.widths.first!]
        upsampling = try zip(reversed, outputs).map {
            try Conv2d($0, $1, kernelSize: (3, 3), padding: (1, 1), generator: generator)
        }
        toPixels = try Conv2d(configuration.widths.first!, 3, kernelSize: (3, 3), padding: (1, 1), generator: generator)
    }

    /// Pictures [N, 3, S, S] in [0, 1] → latent maps [N, latentChannels, S/2ᵏ, S/2ᵏ].
    public func encode(_ pictures: Tensor) throws -> Tensor {
        let side = configuration.imageSize
        guard pictures.rank == 4, pictures.size(1) == 3, pictures.size(2) == side, pictures.size(3) == side else {
            throw InterpretError.invalidArgument("the autoencoder takes [N, 3, \(side), \(side)] pictures, got \(pictures.shape)")
        }
        var x = try pictures * 2 - 1
        for layer in downsampling { x = try layer(x).gelu() }
        return try toLatent(x)
    }

    /// Latent maps → RGB logits [N, 3, S, S] (pixels are their sigmoid).
    public func decodeLogits(_ latent: Tensor) throws -> Tensor {
        var x = try fromLatent(latent).gelu()
        for layer in upsampling {
            let side = x.size(2) * 2
            x = try layer(Functional.interpolate(x, size: (side, side), mode: .nearest)).gelu()
        }
        return try toPixels(x)
    }

    /// Latent maps → pictures in (0, 1).
    public func decode(_ latent: Tensor) throws -> Tensor { try decodeLogits(latent).sigmoid() }

    /// Mean squared error of reconstructing `pictures`.
    public func reconstructionLoss(_ pictures: Tensor) throws -> Tensor {
        try Functional.mseLoss(decode(encode(pictures)), pictures)
    }

    static let weightsFile = "autoencoder.safetensors"
    static let configurationFile = "autoencoder.json"

    /// Writes the weights and the configuration into `directory`.
    public func save(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(configuration).write(
            to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(Self.configurationFile)))
        try Safetensors.save(
            Dictionary(uniqueKeysWithValues: stateDict().map { ($0.key, $0.tensor) }),
            to: (directory as NSString).appendingPathComponent(Self.weightsFile))
    }

    /// Reads an autoencoder written by ``save(to:)``, in evaluation mode.
    public static func load(from directory: String) throws -> PictureAutoencoder {
        let configurationPath = (directory as NSString).appendingPathComponent(configurationFile)
        guard FileManager.default.fileExists(atPath: configurationPath) else {
            throw InterpretError.invalidArgument(
                "\(directory) holds no \(configurationFile); train one with `brivl explain train-decoder`")
        }
        let configuration = try JSONDecoder().decode(
            AutoencoderConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: configurationPath)))
        let autoencoder = try PictureAutoencoder(configuration)
        try autoencoder.load(stateDict: Safetensors.load((directory as NSString).appendingPathComponent(weightsFile)))
        autoencoder.eval()
        return autoencoder
    }
}
