import Torch

/// A lookup table of vectors.
public final class Embedding: Module, UnaryLayer {
    /// [count, dimension]
    public let weight: Tensor
    public let paddingIndex: Int?

    /// - Parameter std: standard deviation of the initial vectors (1 in PyTorch, 0.02 in BERT).
    public init(_ count: Int, _ dimension: Int, paddingIndex: Int? = nil, std: Double = 1, generator: Generator? = nil)
        throws
    {
        if let paddingIndex, !(0..<count).contains(paddingIndex) {
            throw ModuleError.invalidConfiguration("padding index \(paddingIndex) is outside 0..<\(count)")
        }
        let table = try Initialization.normal([count, dimension], std: std, generator: generator)
        if let paddingIndex {
            try withNoGrad { try table[paddingIndex].zeroInPlace() }
        }
        weight = table
        self.paddingIndex = paddingIndex
    }

    /// - Parameter input: int64 indices of any shape
    /// - Returns: [..., dimension]
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Functional.embedding(input, weight: weight, paddingIndex: paddingIndex)
    }
}
