import Foundation

/// Learning rate over training steps: linear warm-up from 0 to `peak`, then cosine decay to `floor` at `totalSteps`.
public struct WarmupCosineSchedule: Sendable, Codable, Equatable {
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, floor: Double = 0) {
        self.peak = peak
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = max(1, totalSteps)
        self.floor = floor
    }

    /// The rate for 0-based `step`: (step + 1)/warmup · peak during warm-up, so the first step already moves.
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(decaySteps))
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
