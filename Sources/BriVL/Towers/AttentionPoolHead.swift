import Torch
import TorchNN

/// CLIP's ResNet head (`AttentionPool2d`): the mean of the feature-map cells is put in front of them, a learned
/// positional embedding is added to all of them, and that mean alone queries the cells with multi-head attention;
/// the attended vector, projected to the joint space and L2-normalised, is the embedding.
///
/// The positional embedding fixes the number of cells, so the tower's image size is fixed with it.
public final class AttentionPoolHead: Module, TowerHead {
    /// [cellCount + 1, inputSize]: the mean's position first, then the cells row by row.
    public let positionalEmbedding: Tensor
    public let query: Linear
    public let key: Linear
    public let value: Linear
    /// [outputSize, inputSize]: CLIP's `c_proj`, the attention's output projection.
    public let output: Linear
    public let headCount: Int

    /// Initialisation as CLIP's: the positional embedding N(0, 1/inputSize), the four projections'
    /// weights N(0, 1/inputSize), their biases as PyTorch's `Linear`.
    public init(inputSize: Int, cellCount: Int, headCount: Int, outputSize: Int, generator: Generator? = nil) throws {
        guard inputSize > 0, cellCount > 0, outputSize > 0, headCount > 0, inputSize % headCount == 0 else {
            throw ModelError.invalidConfiguration(
                "an attention-pool head needs positive sizes and heads that divide its width, got width \(inputSize), "
                    + "\(cellCount) cells, \(headCount) heads, output \(outputSize)")
        }
        let std = 1 / Double(inputSize).squareRoot()
        positionalEmbedding = try Initialization.normal([cellCount + 1, inputSize], std: std, generator: generator)
        query = try Linear(inputSize, inputSize, generator: generator)
        key = try Linear(inputSize, inputSize, generator: generator)
        value = try Linear(inputSize, inputSize, generator: generator)
        output = try Linear(inputSize, outputSize, generator: generator)
        self.headCount = headCount
        super.init()
        if Initialization.fillsValues {
            try withNoGrad {
                for projection in [query, key, value, output] {
                    try projection.weight.normalInPlace(std: std, generator: generator)
                }
            }
        }
    }

    /// The number of cells the positional embedding was made for.
    public var cellCount: Int { positionalEmbedding.size(0) - 1 }

    /// - Parameters:
    ///   - vectors: [batch, cellCount, inputSize], the feature map's cells row by row
    ///   - paddingMask: must be nil: every cell of a feature map is real
    public func callAsFunction(_ vectors: Tensor, paddingMask: Tensor?) throws -> Tensor {
        let width = positionalEmbedding.size(1)
        guard vectors.rank == 3, vectors.size(1) == cellCount, vectors.size(2) == width else {
            throw ModelError.invalidInput(
                "an attention-pool head takes [batch, \(cellCount), \(width)] cells, got \(vectors.shape)")
        }
        guard paddingMask == nil else {
            throw ModelError.invalidInput("an attention-pool head reads a feature map, which has no padding")
        }
        let batch = vectors.size(0)
        let tokens = try Tensor.cat([vectors.mean(dimension: 1, keepDimensions: true), vectors], dimension: 1)
            + positionalEmbedding
        func heads(_ t: Tensor) throws -> Tensor {
            try t.reshaped([batch, -1, headCount, width / headCount]).transposed(1, 2)
        }
        let mean = try tokens.narrowed(dimension: 1, start: 0, length: 1)
        let attended = try Functional.scaledDotProductAttention(
            query: heads(query(mean)), key: heads(key(tokens)), value: heads(value(tokens)))
        let pooled = try attended.transposed(1, 2).reshaped([batch, width])
        return try Functional.normalize(output(pooled), dimension: 1)
    }
}
