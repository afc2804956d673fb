import Torch

/// Parameter initialisers, drawing from a seeded generator so a model built twice with the same seed is identical.
public enum Initialization {
    /// U(-bound, bound) with bound = 1/√fanIn: PyTorch's default for linear and convolution layers
    /// (kaiming_uniform with a = √5 for weights, and the same bound for biases).
    public static func fanInUniform(_ shape: [Int], fanIn: Int, generator: Generator?) throws -> Tensor {
        let bound = 1 / Double(max(fanIn, 1)).squareRoot()
        return try uniform(shape, -bound, bound, generator: generator)
    }

    /// U(low, high).
    public static func uniform(_ shape: [Int], _ low: Double, _ high: Double, generator: Generator?) throws -> Tensor {
        let unit = try Tensor.rand(shape, generator: generator)
        return try (unit * (high - low) + low).requiringGrad()
    }

    /// N(0, std²), the BERT/ViT convention (std 0.02).
    public static func normal(_ shape: [Int], std: Double, generator: Generator?) throws -> Tensor {
        try (Tensor.randn(shape, generator: generator) * std).requiringGrad()
    }

    /// Parameter filled with a constant.
    public static func constant(_ shape: [Int], _ value: Double) throws -> Tensor {
        try Tensor.full(shape, value).requiringGrad()
    }
}
