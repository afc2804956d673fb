import Foundation
import Torch

/// A picture drawn by a frozen ``PictureAutoencoder`` from an optimised latent map.
public final class DecodedPicture: PictureParameterisation {
    public let decoder: PictureAutoencoder
    /// The optimised leaf, [1, latentChannels, side, side].
    public let latent: Tensor

    /// Starts from the latent map of a plain `background` picture plus seeded noise of `standardDeviation`.
    public init(
        decoder: PictureAutoencoder, background: [Double], standardDeviation: Double = 0.3, generator: Generator? = nil
    ) throws {
        self.decoder = decoder
        let side = decoder.configuration.imageSize
        let plain = try Tensor(background.map(Float.init), shape: [1, 3, 1, 1]).expanded(to: [1, 3, side, side])
        let start = try withNoGrad { try decoder.encode(plain.contiguous()) }
        latent = try (start + Tensor.randn(start.shape, generator: generator) * standardDeviation).requiringGrad()
    }

    public var parameters: [Tensor] { [latent] }
    public var side: Int { decoder.configuration.imageSize }
    public func logits() throws -> Tensor { try decoder.decodeLogits(latent) }
}
