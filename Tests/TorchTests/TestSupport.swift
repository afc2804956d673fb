import Testing
import Torch

// Small helpers shared by the Torch tests: deterministic inputs and elementwise comparisons.

/// Uniform float64 values in [low, high), reproducible from `seed`.
func uniformInput(_ shape: [Int], seed: UInt64, low: Double = -1, high: Double = 1) throws -> Tensor {
    let generator = try Generator(seed: seed)
    let unit = try Tensor.rand(shape, dtype: .float64, generator: generator)
    return try unit * (high - low) + low
}

/// Standard normal float64 values, reproducible from `seed`.
func normalInput(_ shape: [Int], seed: UInt64, scale: Double = 1) throws -> Tensor {
    let generator = try Generator(seed: seed)
    return try Tensor.randn(shape, dtype: .float64, generator: generator) * scale
}

/// Float64 values that are pairwise at least `spacing` − 2·`jitter` apart and at least `spacing`/2 − `jitter` away
/// from zero, in a seeded random order: safe for finite differences through max, abs, relu and sorting.
func distinctInput(_ shape: [Int], seed: UInt64, spacing: Double = 0.1, jitter: Double = 0.01) throws -> Tensor {
    let count = shape.reduce(1, *)
    let generator = try Generator(seed: seed)
    let order = try Tensor.randperm(count, generator: generator).toArray(Int.self)
    let noise = try Tensor.rand([count], dtype: .float64, generator: generator).toArray(Double.self)
    let centre = Double(count) / 2
    let values = (0..<count).map { i in (Double(order[i]) - centre + 0.5) * spacing + (noise[i] - 0.5) * 2 * jitter }
    return try Tensor(values, shape: shape)
}

/// Expects `actual` and `expected` to have the same length and to agree elementwise within
/// `absolute + relative·|expected|`.
func expectClose(
    _ actual: [Double], _ expected: [Double], absolute: Double = 1e-6, relative: Double = 0,
    _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "count \(actual.count) ≠ \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst: (index: Int, excess: Double)? = nil
    for i in actual.indices {
        let allowed = absolute + relative * Swift.abs(expected[i])
        let error = Swift.abs(actual[i] - expected[i])
        let excess = error.isNaN ? .infinity : error - allowed
        if excess > 0, excess > (worst?.excess ?? 0) { worst = (i, excess) }
    }
    if let worst {
        var message = "element \(worst.index): \(actual[worst.index]) vs expected \(expected[worst.index]); "
        message += "actual \(actual), expected \(expected)"
        if let comment { message += " — \(comment.rawValue)" }
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

func expectClose(
    _ actual: [Float], _ expected: [Float], absolute: Float = 1e-5, relative: Float = 0,
    _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose(
        actual.map(Double.init), expected.map(Double.init), absolute: Double(absolute), relative: Double(relative),
        comment, sourceLocation: sourceLocation)
}

/// Expects a tensor's shape and its values (read as float64).
func expectTensor(
    _ tensor: Tensor, shape: [Int], _ expected: [Double], absolute: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(tensor.shape == shape, sourceLocation: sourceLocation)
    expectClose(try tensor.toArray(Double.self), expected, absolute: absolute, sourceLocation: sourceLocation)
}

/// Expects the error to be `TorchError.engine` and returns its message.
func engineMessage(_ error: (any Error)?, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
    guard case .engine(let message)? = error as? TorchError else {
        Issue.record("expected TorchError.engine, got \(String(describing: error))", sourceLocation: sourceLocation)
        return nil
    }
    return message
}
