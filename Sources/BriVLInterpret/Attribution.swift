import Foundation
import Torch

/// Gradient × input attributions along the straight path from a baseline (integrated gradients): the share of
/// each input element in score(input) − score(baseline),
///
///     a = (x − b) · (1/m) Σₖ ∂score/∂x at b + (k/m)(x − b),  k = 1…m.
///
/// With m = 1 this is plain gradient × (input − baseline). More steps make the attributions add up to the score
/// difference even when the model is far from linear between baseline and input, as normalised region vectors
/// and attention heads are: one gradient at the input alone can give a drawn object a negative share.
public enum Attribution {
    /// Per pixel of `image` [1, C, H, W]: [H, W], summed over channels.
    /// - Parameters:
    ///   - baseline: the "absent" input, broadcastable to the image (e.g. the canvas colour)
    ///   - steps: points on the path (m)
    ///   - score: per-sample scores of a batch [n, C, H, W], summed to a scalar
    public static func pixels(
        _ image: Tensor, baseline: Tensor, steps: Int = 16, score: (Tensor) throws -> Tensor
    ) throws -> (scores: Tensor, value: Double) {
        guard image.rank == 4, image.size(0) == 1 else {
            throw InterpretError.invalidArgument("pixel attribution takes one image [1, C, H, W], got \(image.shape)")
        }
        let (product, value) = try integratedGradients(image, baseline: baseline, steps: steps, score: score)
        return (try product.sum(dimension: 1).squeezed(0), value)
    }

    /// Per vector of `vectors` [1, count, width] (regions or tokens): [count], summed over the width.
    /// - Parameter baseline: the vectors of an input with nothing in it (nil: zero vectors)
    public static func vectors(
        _ vectors: Tensor, baseline: Tensor? = nil, steps: Int = 16, score: (Tensor) throws -> Tensor
    ) throws -> (scores: Tensor, value: Double) {
        guard vectors.rank == 3, vectors.size(0) == 1 else {
            throw InterpretError.invalidArgument("vector attribution takes [1, count, width], got \(vectors.shape)")
        }
        let (product, value) = try integratedGradients(
            vectors, baseline: baseline ?? Tensor.zeros([]), steps: steps, score: score)
        return (try product.sum(dimension: 2).squeezed(0), value)
    }

    /// [1, …] attributions shaped like `input`, and score(input).
    static func integratedGradients(
        _ input: Tensor, baseline: Tensor, steps: Int, score: (Tensor) throws -> Tensor
    ) throws -> (Tensor, Double) {
        guard steps >= 1 else { throw InterpretError.invalidArgument("attribution needs at least one step, got \(steps)") }
        let x = try input.detach()
        let difference = try x - baseline
        let fractions = try Tensor((1...steps).map { Float($0) / Float(steps) })
            .reshaped([steps] + [Int](repeating: 1, count: x.rank - 1))
        let path = try (baseline + fractions * difference).detach().requiringGrad()
        let total = try score(path)
        guard total.count == 1 else { throw InterpretError.invalidArgument("the score must be a scalar, got \(total.shape)") }
        try total.backward()
        let gradient = try path.grad ?? Tensor.zeros(path.shape)
        let value = try withNoGrad { try score(x).item() }
        return (try withNoGrad { try gradient.mean(dimension: 0, keepDimensions: true) * difference }, value)
    }
}
