import Foundation

/// How an image is optimised towards a concept or a unit.
public struct InversionSettings: Codable, Sendable, Equatable {
    /// Optimisation steps over all resolutions.
    public var steps: Int = 240
    /// Side of the optimised canvas, in pixels (views are resampled to the model's input size).
    public var size: Int
    /// Canvas sides of the multi-resolution schedule, smallest first, ending at `size`: coarse layout is settled
    /// where few coefficients describe it, then detail is added.
    public var resolutions: [Int]
    /// Adam's step size on the Fourier coefficients.
    public var learningRate: Double = 0.05
    /// Jittered views averaged per step.
    public var viewsPerStep: Int = 4
    public var views: RandomViews = RandomViews()
    /// Weight of the image–text cosine in the objective (0 ignores the prompt).
    public var cosineWeight: Double = 1
    /// Weight of the mean cosine with the contrast texts (see ``InversionTarget/contrast``).
    public var contrastWeight: Double = 1
    /// Weight of the chosen unit's activation (0 when no unit is chosen).
    public var unitWeight: Double = 1
    public var totalVariationWeight: Double = 0.3
    public var rangeWeight: Double = 0.05
    /// Weight of the ink penalty (distance from ``background``).
    public var inkWeight: Double = 0
    /// |pre-sigmoid value| beyond which the range penalty applies.
    public var rangeLimit: Double = 4
    /// Spread of the random starting coefficients.
    public var initialStandardDeviation: Double = 0.3
    /// The plain colour the starting noise lies on (RGB in (0, 1)): the canvas colour of the training images
    /// makes the start look like something the model has seen.
    public var background: [Double] = [0.5, 0.5, 0.5]
    /// Exponent of the 1/f spectrum scaling (0 = plain Fourier basis).
    public var decayPower: Double = 1
    public var seed: UInt64 = 0

    /// Settings for a canvas of `size` pixels: resolutions size/4, size/2, size (those of at least 8 pixels).
    public init(size: Int) {
        self.size = size
        resolutions = [size / 4, size / 2].filter { $0 >= 8 } + [size]
    }

    public func validate() throws {
        guard steps >= 1 else { throw InterpretError.invalidArgument("--steps must be at least 1, got \(steps)") }
        guard size >= 8, size <= 256 else {
            throw InterpretError.invalidArgument("--size must be between 8 and 256 pixels, got \(size)")
        }
        guard let last = resolutions.last, last == size, resolutions.allSatisfy({ $0 >= 4 }),
            zip(resolutions, resolutions.dropFirst()).allSatisfy({ $0 < $1 })
        else {
            throw InterpretError.invalidArgument(
                "resolutions \(resolutions) must rise strictly, start at 4 pixels or more and end at the size \(size)")
        }
        guard viewsPerStep >= 1 else {
            throw InterpretError.invalidArgument("at least one view per step is needed, got \(viewsPerStep)")
        }
        guard background.count == 3, background.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw InterpretError.invalidArgument("the background must be an RGB colour inside (0, 1), got \(background)")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw InterpretError.invalidArgument("the learning rate must be positive, got \(learningRate)")
        }
    }

    /// Steps spent at each resolution: the final one gets half, the earlier ones share the rest equally.
    public var stepsPerResolution: [Int] {
        guard resolutions.count > 1 else { return [steps] }
        let early = steps / 2 / (resolutions.count - 1)
        let earlySteps = [Int](repeating: early, count: resolutions.count - 1)
        return earlySteps + [steps - early * (resolutions.count - 1)]
    }
}
