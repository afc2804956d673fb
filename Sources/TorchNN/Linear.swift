import Torch

/// y = x·Wᵀ + b.
public final class Linear: Module, UnaryLayer {
    /// [outputSize, inputSize]
    public let weight: Tensor
    /// [outputSize]
    public let bias: Tensor?

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, generator: Generator? = nil) throws {
        weight = try Initialization.fanInUniform([outputSize, inputSize], fanIn: inputSize, generator: generator)
        self.bias = bias ? try Initialization.fanInUniform([outputSize], fanIn: inputSize, generator: generator) : nil
    }

    /// - Parameter input: [..., inputSize]
    /// - Returns: [..., outputSize]
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Functional.linear(input, weight: weight, bias: bias)
    }
}
