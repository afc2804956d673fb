import Torch
import TorchNN

/// BERT's masked-language-model head: transform (dense, GELU, LayerNorm), then scores over the vocabulary with
/// the word-embedding matrix (tied, as BERT does) plus a bias.
public final class MaskedLanguageModelHead: Module {
    public let dense: Linear
    public let layerNorm: LayerNorm
    public let bias: Tensor

    public init(hiddenSize: Int, vocabularySize: Int, layerNormEps: Double = 1e-12, generator: Generator? = nil) throws {
        dense = try Linear(hiddenSize, hiddenSize, generator: generator)
        layerNorm = try LayerNorm(hiddenSize, eps: layerNormEps)
        bias = try Tensor.zeros([vocabularySize]).requiringGrad()
    }

    /// - Parameters:
    ///   - hidden: [n, hidden] states at the masked positions
    ///   - wordEmbeddings: [vocabulary, hidden], the encoder's input embedding table
    /// - Returns: [n, vocabulary] logits
    public func callAsFunction(_ hidden: Tensor, wordEmbeddings: Tensor) throws -> Tensor {
        let transformed = try layerNorm(dense(hidden).gelu())
        return try Functional.linear(transformed, weight: wordEmbeddings, bias: bias)
    }
}

/// Which tokens of a batch to corrupt for MLM, and how (BERT: 15 % of the real tokens; of those 80 % become
/// [MASK], 10 % a random token, 10 % stay).
public struct MaskedTokens {
    /// The corrupted ids, [batch, length].
    public var tokenIDs: Tensor
    /// The batch's attention mask, unchanged (padding is never masked).
    public var attentionMask: Tensor
    /// Flat indices (row · length + column) of the chosen positions, [n] int64.
    public var positions: Tensor
    /// The original ids at those positions, [n] int64.
    public var labels: Tensor

    public var count: Int { positions.size(0) }

    /// - Parameters:
    ///   - tokenIDs: [batch, length] int64 on the CPU or any device (read back to choose positions)
    ///   - attentionMask: [batch, length], 0 at padding
    ///   - specialIDs: ids never masked ([CLS], [SEP], [PAD])
    ///   - seed: the draw; the same seed masks the same positions
    public static func draw(
        tokenIDs: Tensor, attentionMask: Tensor, maskID: Int, vocabularySize: Int, specialIDs: Set<Int>,
        probability: Double = 0.15, seed: UInt64
    ) throws -> MaskedTokens {
        guard (0...1).contains(probability), vocabularySize > 0 else {
            throw ModelError.invalidConfiguration("MLM probability \(probability) must be in [0, 1]")
        }
        let shape = tokenIDs.shape
        var ids = try tokenIDs.to(device: .cpu, dtype: .int64).toArray(Int64.self)
        let mask = try attentionMask.to(device: .cpu, dtype: .int64).toArray(Int64.self)
        // Three draws per position, made by the engine's seeded generator: chosen?, how to corrupt, which token.
        let generator = try Generator(seed: seed)
        let chosen = try Tensor.rand([ids.count], dtype: .float64, generator: generator).toArray(Double.self)
        let corruption = try Tensor.rand([ids.count], dtype: .float64, generator: generator).toArray(Double.self)
        let replacements = try Tensor.randint(0..<vocabularySize, shape: [ids.count], generator: generator)
            .toArray(Int64.self)
        var positions: [Int64] = []
        var labels: [Int64] = []
        for index in ids.indices where mask[index] != 0 && !specialIDs.contains(Int(ids[index])) {
            guard chosen[index] < probability else { continue }
            positions.append(Int64(index))
            labels.append(ids[index])
            if corruption[index] < 0.8 {
                ids[index] = Int64(maskID)
            } else if corruption[index] < 0.9 {
                ids[index] = replacements[index]
            }
        }
        let device = tokenIDs.device
        return MaskedTokens(
            tokenIDs: try Tensor(ids, shape: shape).to(device: device), attentionMask: attentionMask,
            positions: try Tensor(positions, shape: [positions.count]).to(device: device),
            labels: try Tensor(labels, shape: [labels.count]).to(device: device))
    }
}
