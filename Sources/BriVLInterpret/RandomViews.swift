import Foundation
import Imaging
import Torch

/// Random small shifts, zooms and rotations of the image being optimised, drawn afresh at every step.
///
/// An image that raises the objective only at one exact pixel alignment is exploiting the network's aliasing, not
/// showing a concept. Averaging the objective over several jittered views rewards only what survives small
/// geometric changes, which is what makes the results look like things. The views are drawn with one affine
/// `grid_sample` per batch, which also resamples the canvas to the model's input size.
public struct RandomViews: Codable, Sendable, Equatable {
    /// Largest shift, as a fraction of the image side (each direction).
    public var maximumShift: Double
    /// Zoom factors (> 1 magnifies).
    public var scaleRange: ClosedRange<Double>
    /// Largest rotation, in degrees (each direction).
    public var maximumRotation: Double

    public init(maximumShift: Double = 0.06, scaleRange: ClosedRange<Double> = 0.92...1.08, maximumRotation: Double = 8) {
        self.maximumShift = maximumShift
        self.scaleRange = scaleRange
        self.maximumRotation = maximumRotation
    }

    /// No change at all: the view used to measure the result.
    public static let identity = RandomViews(maximumShift: 0, scaleRange: 1...1, maximumRotation: 0)

    /// `count` views of `image` [1, 3, H, W] at `outputSize`², [count, 3, outputSize, outputSize].
    public func views(
        of image: Tensor, count: Int, outputSize: Int, random: inout SeededRandom
    ) throws -> Tensor {
        guard count >= 1 else { throw InterpretError.invalidArgument("at least one view is needed, got \(count)") }
        var coefficients: [Float] = []
        for _ in 0..<count {
            let angle = Double.random(in: -maximumRotation...maximumRotation, using: &random) * Double.pi / 180
            let zoom = Double.random(in: scaleRange, using: &random)
            let shiftX = Double.random(in: -maximumShift...maximumShift, using: &random) * 2
            let shiftY = Double.random(in: -maximumShift...maximumShift, using: &random) * 2
            // Output point p samples the input at R·p / zoom + shift (normalised coordinates).
            let (c, s) = (cos(angle) / zoom, sin(angle) / zoom)
            coefficients += [c, -s, shiftX, s, c, shiftY].map(Float.init)
        }
        return try Self.sample(image, affine: Tensor(coefficients, shape: [count, 2, 3]), outputSize: outputSize)
    }

    /// Samples `image` [1, 3, H, W] through `affine` [count, 2, 3] maps onto outputSize² grids; outside the image
    /// it reflects.
    static func sample(_ image: Tensor, affine: Tensor, outputSize: Int) throws -> Tensor {
        let count = affine.size(0)
        var base: [Float] = []
        for row in 0..<outputSize {
            for column in 0..<outputSize {
                let x = (2 * Double(column) + 1) / Double(outputSize) - 1
                let y = (2 * Double(row) + 1) / Double(outputSize) - 1
                base += [Float(x), Float(y), 1]
            }
        }
        // [1, S², 3] @ [count, 3, 2] → [count, S², 2]
        let points = try Tensor(base, shape: [1, outputSize * outputSize, 3]).matmul(affine.transposed(1, 2))
        let grid = try points.reshaped([count, outputSize, outputSize, 2])
        let batch = try image.expanded(to: [count, -1, -1, -1])
        return try Functional.gridSample(batch, grid: grid, mode: .bilinear, padding: .reflection, alignCorners: false)
    }
}
