import Torch

/// Parameter initialisers, drawing from a seeded generator so a model built twice with the same seed is identical.
public enum Initialization {
    /// Set inside ``withoutValues(_:)``.
    @TaskLocal static var allocatesOnly = false

    /// Builds modules whose parameters get their storage but no values: for a model all of whose weights are read
    /// next (strict state-dict loading fails on any key left out), so that no random numbers are drawn and no
    /// weight is written twice. Scoped to `body` and to the task running it.
    public static func withoutValues<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $allocatesOnly.withValue(true) { try body() }
    }

    /// Whether parameters get values now; layers that re-initialise their parameters after building them check it.
    public static var fillsValues: Bool { !allocatesOnly }

    /// Storage for a parameter when values are skipped.
    private static func unfilled(_ shape: [Int]) throws -> Tensor {
        try Tensor.empty(shape).requiringGrad()
    }

    /// U(-bound, bound) with bound = 1/√fanIn: PyTorch's default for linear and convolution layers
    /// (kaiming_uniform with a = √5 for weights, and the same bound for biases).
    public static func fanInUniform(_ shape: [Int], fanIn: Int, generator: Generator?) throws -> Tensor {
        if allocatesOnly { return try unfilled(shape) }
        let bound = 1 / Double(max(fanIn, 1)).squareRoot()
        return try uniform(shape, -bound, bound, generator: generator)
    }

    /// U(low, high).
    public static func uniform(_ shape: [Int], _ low: Double, _ high: Double, generator: Generator?) throws -> Tensor {
        if allocatesOnly { return try unfilled(shape) }
        let unit = try Tensor.rand(shape, generator: generator)
        return try (unit * (high - low) + low).requiringGrad()
    }

    /// N(0, std²), the BERT/ViT convention (std 0.02).
    public static func normal(_ shape: [Int], std: Double, generator: Generator?) throws -> Tensor {
        if allocatesOnly { return try unfilled(shape) }
        return try (Tensor.randn(shape, generator: generator) * std).requiringGrad()
    }

    /// Parameter filled with a constant.
    public static func constant(_ shape: [Int], _ value: Double) throws -> Tensor {
        if allocatesOnly { return try unfilled(shape) }
        return try Tensor.full(shape, value).requiringGrad()
    }
}
