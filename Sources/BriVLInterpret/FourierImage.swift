import Foundation
import Torch

/// An image parameterised for feature visualisation: Fourier coefficients of colour-decorrelated channels, scaled
/// by 1/frequency, then mapped to RGB and squashed into (0, 1) by a sigmoid.
///
/// Why: a gradient step on raw pixels is dominated by high frequencies (the network is most sensitive to them), so
/// pixel optimisation finds adversarial speckle. With the 1/f scaling every frequency band starts with the energy it
/// has in natural images and Adam's per-coefficient steps change coarse structure as readily as fine detail. The
/// sigmoid keeps every pixel a valid colour whatever the optimiser does.
///
/// The map is invertible (``init(fitting:decorrelation:)``), so an image can be re-expressed at a new resolution
/// (the multi-resolution schedule) or used as the start of the next optimisation (story mode).
public final class FourierImage {
    public let height: Int
    public let width: Int
    /// The optimised leaves, [1, 3, H, W/2+1] each.
    public let real: Tensor
    public let imaginary: Tensor
    public let decorrelation: ColourDecorrelation
    let basis: FourierBasis
    /// [H, W/2+1]: 1/f, normalised so that unit-variance coefficients give unit-variance pixels (before the sigmoid).
    let spectrumScale: Tensor

    /// Random coefficients around a plain `background` colour (RGB in (0, 1); nil: mid grey): `standardDeviation`
    /// is roughly the spread of the starting pre-sigmoid values around it.
    public init(
        height: Int, width: Int, standardDeviation: Double = 0.3, background: [Double]? = nil, decayPower: Double = 1,
        decorrelation: ColourDecorrelation = ColourDecorrelation(), generator: Generator? = nil
    ) throws {
        self.height = height
        self.width = width
        self.decorrelation = decorrelation
        let basis = try FourierBasis(height: height, width: width)
        let scale = try Self.makeSpectrumScale(basis: basis, decayPower: decayPower)
        self.basis = basis
        spectrumScale = scale
        let shape = [1, 3, height, basis.frequencyColumns]
        var startReal = try Tensor.randn(shape, generator: generator) * standardDeviation
        let startImaginary = try Tensor.randn(shape, generator: generator) * standardDeviation
        if let background {
            guard background.count == 3, background.allSatisfy({ $0 > 0 && $0 < 1 }) else {
                throw InterpretError.invalidArgument("a background is an RGB colour inside (0, 1), got \(background)")
            }
            // A plain colour is all zero frequency: its coefficients are the plain image's spectrum.
            let logits = try Tensor(background.map { Float(Foundation.log($0 / (1 - $0))) }, shape: [1, 3, 1, 1])
                .expanded(to: [1, 3, height, width])
            let plain = try basis.rfft2(decorrelation.fromRGB(logits.contiguous())).real / scale
            startReal = try startReal + plain
        }
        real = try startReal.requiringGrad()
        imaginary = try startImaginary.requiringGrad()
    }

    /// The parameters that render `image` ([1, 3, H, W], values in (0, 1); values at 0 or 1 are pulled slightly
    /// inside, where the sigmoid can reach them).
    public convenience init(
        fitting image: Tensor, decayPower: Double = 1, decorrelation: ColourDecorrelation = ColourDecorrelation()
    ) throws {
        guard image.rank == 4, image.size(0) == 1, image.size(1) == 3 else {
            throw InterpretError.invalidArgument("an image to fit must be [1, 3, H, W], got \(image.shape)")
        }
        let clamped = try image.detach().clamped(min: 1e-3, max: 1 - 1e-3)
        let logits = try (clamped / (1 - clamped)).log()
        try self.init(channels: decorrelation.fromRGB(logits), decayPower: decayPower, decorrelation: decorrelation)
    }

    /// The parameters whose decorrelated channels ([1, 3, H, W]) are `channels`.
    init(channels: Tensor, decayPower: Double, decorrelation: ColourDecorrelation) throws {
        height = channels.size(2)
        width = channels.size(3)
        self.decorrelation = decorrelation
        let basis = try FourierBasis(height: channels.size(2), width: channels.size(3))
        let scale = try Self.makeSpectrumScale(basis: basis, decayPower: decayPower)
        let spectrum = try withNoGrad { try basis.rfft2(channels.detach()) }
        self.basis = basis
        spectrumScale = scale
        real = try (spectrum.real / scale).detach().requiringGrad()
        imaginary = try (spectrum.imaginary / scale).detach().requiringGrad()
    }

    public var parameters: [Tensor] { [real, imaginary] }

    /// The decorrelated channels before colour mapping, [1, 3, H, W].
    public func channels() throws -> Tensor {
        try basis.irfft2(real: real * spectrumScale, imaginary: imaginary * spectrumScale)
    }

    /// Pre-sigmoid RGB values, [1, 3, H, W]; the range penalty reads these.
    public func logits() throws -> Tensor { try decorrelation.toRGB(channels()) }

    /// The image, [1, 3, H, W] in (0, 1).
    public func render() throws -> Tensor { try logits().sigmoid() }

    /// The same picture at another resolution: the decorrelated channels resampled bilinearly and re-expressed as
    /// coefficients at the new size, so optimisation can continue with more detail available.
    public func resampled(height newHeight: Int, width newWidth: Int, decayPower: Double = 1) throws -> FourierImage {
        let channels = try withNoGrad {
            try Functional.interpolate(self.channels(), size: (newHeight, newWidth), mode: .bilinear)
        }
        return try FourierImage(channels: channels, decayPower: decayPower, decorrelation: decorrelation)
    }

    static func makeSpectrumScale(basis: FourierBasis, decayPower: Double) throws -> Tensor {
        let floor = 1 / Double(max(basis.height, basis.width))
        let raw = try basis.frequencyMagnitudes().map { Foundation.pow(max(Double($0), floor), -decayPower) }
        // Pixel variance of irfft2 for unit-variance coefficients ≈ Σ w_l² s² / (H·W)², w_l the Hermitian weight.
        let columns = basis.frequencyColumns
        var energy = 0.0
        for (index, value) in raw.enumerated() {
            let l = index % columns
            let weight: Double = l == 0 || (basis.width % 2 == 0 && l == basis.width / 2) ? 1 : 2
            energy += weight * weight * value * value
        }
        let normaliser = Double(basis.height * basis.width) / energy.squareRoot()
        return try Tensor(raw.map { Float($0 * normaliser) }, shape: [basis.height, columns])
    }
}
