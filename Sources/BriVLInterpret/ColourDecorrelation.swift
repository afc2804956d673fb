import Foundation
import Torch

/// A fixed 3×3 map from decorrelated channels to RGB: one luminance axis and two opponent-colour axes, scaled.
///
/// Neighbouring colour channels of real images are strongly correlated (mostly they move together as brightness).
/// Optimising in an opponent basis lets a gradient step change brightness or hue rather than one raw channel, which
/// keeps the optimised images from drifting into the red/green/blue speckle that per-channel pixel steps produce.
public struct ColourDecorrelation {
    /// RGB = matrix · decorrelated, row-major [3, 3].
    public let matrix: [Double]

    /// - Parameter chromaScale: how far the opponent axes reach relative to luminance (1 = as far)
    public init(chromaScale: Double = 0.7) {
        let s3 = 1 / 3.0.squareRoot(), s2 = 1 / 2.0.squareRoot(), s6 = 1 / 6.0.squareRoot()
        // Columns: luminance (1,1,1), red–blue (1,0,−1), green–magenta (1,−2,1), each of unit length.
        let basis: [[Double]] = [[s3, s2, s6], [s3, 0, -2 * s6], [s3, -s2, s6]]
        let scales = [1.0, chromaScale, chromaScale]
        matrix = (0..<3).flatMap { row in (0..<3).map { column in basis[row][column] * scales[column] } }
    }

    /// The inverse map, RGB → decorrelated: the basis is orthonormal, so it is the transpose divided by the scales.
    var inverseMatrix: [Double] {
        let scales = (0..<3).map { column in
            (0..<3).map { row in matrix[row * 3 + column] * matrix[row * 3 + column] }.reduce(0, +).squareRoot()
        }
        return (0..<3).flatMap { row in (0..<3).map { column in matrix[column * 3 + row] / (scales[row] * scales[row]) } }
    }

    /// [N, 3, H, W] decorrelated → RGB (as a 1×1 convolution).
    func toRGB(_ channels: Tensor) throws -> Tensor {
        try Functional.conv2d(channels, weight: Tensor(matrix.map(Float.init), shape: [3, 3, 1, 1]))
    }

    /// [N, 3, H, W] RGB → decorrelated.
    func fromRGB(_ channels: Tensor) throws -> Tensor {
        try Functional.conv2d(channels, weight: Tensor(inverseMatrix.map(Float.init), shape: [3, 3, 1, 1]))
    }
}
