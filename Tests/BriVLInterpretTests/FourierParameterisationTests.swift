import Foundation
import Testing
import Torch

@testable import BriVLInterpret

@Suite("Fourier parameterisation")
struct FourierParameterisationTests {
    /// The spectrum by the definition, X[k, l] = Σ_y Σ_x v[y, x]·e^{−2πi(ky/H + lx/W)}, in double precision.
    private func directDFT(_ values: [Double], height: Int, width: Int) -> (real: [Double], imaginary: [Double]) {
        let columns = width / 2 + 1
        var real = [Double](repeating: 0, count: height * columns)
        var imaginary = real
        for k in 0..<height {
            for l in 0..<columns {
                for y in 0..<height {
                    for x in 0..<width {
                        let angle = -2 * Double.pi * (Double(k * y) / Double(height) + Double(l * x) / Double(width))
                        real[k * columns + l] += values[y * width + x] * cos(angle)
                        imaginary[k * columns + l] += values[y * width + x] * sin(angle)
                    }
                }
            }
        }
        return (real, imaginary)
    }

    @Test("rfft2 by matrix products equals the DFT by definition (odd and even sides)", arguments: [(5, 6), (4, 7)])
    func matchesDirectDFT(size: (Int, Int)) throws {
        let (height, width) = size
        let image = try Tensor.randn([height, width], generator: Generator(seed: 7))
        let basis = try FourierBasis(height: height, width: width)
        let spectrum = try basis.rfft2(image)
        #expect(spectrum.real.shape == [height, width / 2 + 1])
        let expected = directDFT(try image.toArray(Float.self).map(Double.init), height: height, width: width)
        let real = try spectrum.real.toArray(Float.self).map(Double.init)
        let imaginary = try spectrum.imaginary.toArray(Float.self).map(Double.init)
        #expect(zip(real, expected.real).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(imaginary, expected.imaginary).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test("irfft2 inverts rfft2 on batches of channels")
    func inverseTransform() throws {
        let images = try Tensor.randn([2, 3, 8, 6], generator: Generator(seed: 1))
        let basis = try FourierBasis(height: 8, width: 6)
        let spectrum = try basis.rfft2(images)
        let back = try basis.irfft2(real: spectrum.real, imaginary: spectrum.imaginary)
        #expect(try back.isClose(to: images, rtol: 0, atol: 1e-4))
    }

    @Test("the colour map's inverse undoes it")
    func colourInverse() throws {
        let colours = ColourDecorrelation(chromaScale: 0.6)
        let channels = try Tensor.randn([1, 3, 4, 4], generator: Generator(seed: 2))
        #expect(try colours.fromRGB(colours.toRGB(channels)).isClose(to: channels, rtol: 0, atol: 1e-5))
    }

    @Test("image → parameters → image reproduces the image")
    func roundTrip() throws {
        let image = try Tensor.rand([1, 3, 12, 12], generator: Generator(seed: 3)) * 0.9 + 0.05
        let parameters = try FourierImage(fitting: image)
        #expect(try parameters.render().isClose(to: image, rtol: 0, atol: 1e-3))
        // Resampling to the same size is the identity too.
        let same = try parameters.resampled(height: 12, width: 12)
        #expect(try same.render().isClose(to: image, rtol: 0, atol: 1e-3))
    }

    @Test("a background start lies on that colour; 1/f scaling gives smooth noise")
    func startingImages() throws {
        let plain = try FourierImage(height: 16, width: 16, standardDeviation: 0, background: [0.9, 0.2, 0.5])
        let pixels = try plain.render().mean(dimensions: [0, 2, 3]).toArray(Float.self)
        #expect(zip(pixels, [0.9, 0.2, 0.5]).allSatisfy { abs(Double($0) - $1) < 1e-3 })

        // Neighbouring pixels of 1/f noise are far more alike than those of white noise (decay power 0).
        func neighbourDifference(_ decay: Double) throws -> Double {
            let noise = try FourierImage(
                height: 32, width: 32, standardDeviation: 1, decayPower: decay, generator: Generator(seed: 4)
            ).logits()
            return try Penalties.totalVariation(noise).item() / noise.std()
        }
        // For 32 pixels the expected ratio is about √(Σ1 / Σf⁻²) / √(Σf² / Σ1) ≈ 0.6.
        let (pink, white) = (try neighbourDifference(1), try neighbourDifference(0))
        #expect(pink < 0.75 * white, "neighbour difference / std: 1/f \(pink), white \(white)")
    }

    @Test("resampling keeps the picture and changes its size")
    func resampling() throws {
        let image = try FourierImage(height: 8, width: 8, generator: Generator(seed: 5))
        let larger = try image.resampled(height: 16, width: 16)
        #expect(larger.real.shape == [1, 3, 16, 9])
        let shrunk = try Functional.interpolate(larger.render(), size: (8, 8), mode: .bilinear, antialias: true)
        #expect(try (shrunk - image.render()).abs().max().item() < 0.1)
    }
}

extension Tensor {
    /// Standard deviation of all elements.
    fileprivate func std() throws -> Double {
        try (self - mean()).pow(2.0).mean().item().squareRoot()
    }
}
