import Torch
import TorchNN

// A BERT encoder in the Hugging Face layout, so its checkpoint keys (`embeddings.word_embeddings.weight`,
// `encoder.layer.0.attention.self.query.weight`, `…attention.output.LayerNorm.weight`, …) load as they are.

/// Word, position and token-type embeddings, summed and normalised.
public final class BertEmbeddings: Module {
    public let wordEmbeddings: Embedding
    public let positionEmbeddings: Embedding
    public let tokenTypeEmbeddings: Embedding
    public let layerNorm: LayerNorm
    public let dropout: Dropout?

    public override class var checkpointKeys: [String: String] { ["layerNorm": "LayerNorm"] }

    init(_ configuration: BertConfiguration, generator: Generator?) throws {
        wordEmbeddings = try Embedding(
            configuration.vocabularySize, configuration.hiddenSize, paddingIndex: 0, std: 0.02, generator: generator)
        positionEmbeddings = try Embedding(
            configuration.maxPositions, configuration.hiddenSize, std: 0.02, generator: generator)
        tokenTypeEmbeddings = try Embedding(
            configuration.typeVocabularySize, configuration.hiddenSize, std: 0.02, generator: generator)
        layerNorm = try LayerNorm(configuration.hiddenSize, eps: configuration.layerNormEps)
        dropout = configuration.hiddenDropout > 0 ? try Dropout(configuration.hiddenDropout) : nil
    }

    /// - Parameters:
    ///   - tokenIDs: [batch, length] int64
    ///   - tokenTypeIDs: [batch, length] int64, or nil for all zeros
    /// - Returns: [batch, length, hidden]
    func callAsFunction(_ tokenIDs: Tensor, tokenTypeIDs: Tensor?) throws -> Tensor {
        try callAsFunction(wordVectors: wordEmbeddings(tokenIDs), tokenTypeIDs: tokenTypeIDs)
    }

    /// The same from word vectors already looked up ([batch, length, hidden]), so that attributions can take
    /// gradients with respect to them.
    public func callAsFunction(wordVectors: Tensor, tokenTypeIDs: Tensor?) throws -> Tensor {
        let (batch, length) = (wordVectors.size(0), wordVectors.size(1))
        let positions = try Tensor.arange(length, device: wordVectors.device).unsqueezed(0)
        let types = try tokenTypeIDs ?? Tensor.zeros([batch, length], dtype: .int64, device: wordVectors.device)
        var x = try wordVectors + positionEmbeddings(positions) + tokenTypeEmbeddings(types)
        x = try layerNorm(x)
        if let dropout { x = try dropout(x) }
        return x
    }
}

/// The query/key/value projections of one layer (HF's `attention.self`).
public final class BertSelfAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    let headCount: Int
    let dropout: Double

    init(_ configuration: BertConfiguration, generator: Generator?) throws {
        let size = configuration.hiddenSize
        query = try Linear(size, size, generator: generator)
        key = try Linear(size, size, generator: generator)
        value = try Linear(size, size, generator: generator)
        headCount = configuration.headCount
        dropout = configuration.attentionDropout
    }

    /// - Parameters:
    ///   - x: [batch, length, hidden]
    ///   - mask: [batch, 1, 1, length] bool, true where a key may be attended
    /// - Returns: [batch, length, hidden], heads concatenated
    func callAsFunction(_ x: Tensor, mask: Tensor) throws -> Tensor {
        let (batch, length, hidden) = (x.size(0), x.size(1), x.size(2))
        func heads(_ t: Tensor) throws -> Tensor {
            try t.reshaped([batch, length, headCount, hidden / headCount]).transposed(1, 2)
        }
        let attended = try Functional.scaledDotProductAttention(
            query: heads(query(x)), key: heads(key(x)), value: heads(value(x)), mask: mask,
            dropout: training ? dropout : 0, generator: dropoutGenerator)
        return try attended.transposed(1, 2).reshaped([batch, length, hidden])
    }
}

/// A projection, dropout, residual and LayerNorm (HF's `attention.output` and `output`).
public final class BertResidualOutput: Module {
    public let dense: Linear
    public let layerNorm: LayerNorm
    public let dropout: Dropout?

    public override class var checkpointKeys: [String: String] { ["layerNorm": "LayerNorm"] }

    init(inputSize: Int, _ configuration: BertConfiguration, generator: Generator?) throws {
        dense = try Linear(inputSize, configuration.hiddenSize, generator: generator)
        layerNorm = try LayerNorm(configuration.hiddenSize, eps: configuration.layerNormEps)
        dropout = configuration.hiddenDropout > 0 ? try Dropout(configuration.hiddenDropout) : nil
    }

    func callAsFunction(_ x: Tensor, residual: Tensor) throws -> Tensor {
        var y = try dense(x)
        if let dropout { y = try dropout(y) }
        return try layerNorm(y + residual)
    }
}

/// Self-attention with its output block (HF's `attention`).
public final class BertAttention: Module {
    public let selfAttention: BertSelfAttention
    public let output: BertResidualOutput

    public override class var checkpointKeys: [String: String] { ["selfAttention": "self"] }

    init(_ configuration: BertConfiguration, generator: Generator?) throws {
        selfAttention = try BertSelfAttention(configuration, generator: generator)
        output = try BertResidualOutput(inputSize: configuration.hiddenSize, configuration, generator: generator)
    }
}

/// The feed-forward expansion (HF's `intermediate`).
public final class BertIntermediate: Module {
    public let dense: Linear
    let activation: Activation

    init(_ configuration: BertConfiguration, activation: Activation, generator: Generator?) throws {
        dense = try Linear(configuration.hiddenSize, configuration.intermediateSize, generator: generator)
        self.activation = activation
    }
}

/// One post-norm encoder layer.
public final class BertLayer: Module {
    public let attention: BertAttention
    public let intermediate: BertIntermediate
    public let output: BertResidualOutput

    init(_ configuration: BertConfiguration, activation: Activation, generator: Generator?) throws {
        attention = try BertAttention(configuration, generator: generator)
        intermediate = try BertIntermediate(configuration, activation: activation, generator: generator)
        output = try BertResidualOutput(inputSize: configuration.intermediateSize, configuration, generator: generator)
    }

    func callAsFunction(_ x: Tensor, mask: Tensor) throws -> Tensor {
        let attended = try attention.output(attention.selfAttention(x, mask: mask), residual: x)
        let expanded = try intermediate.activation(intermediate.dense(attended))
        return try output(expanded, residual: attended)
    }
}

/// The stack of layers (HF's `encoder`).
public final class BertEncoder: Module {
    public let layers: [BertLayer]

    public override class var checkpointKeys: [String: String] { ["layers": "layer"] }

    init(_ configuration: BertConfiguration, activation: Activation, generator: Generator?) throws {
        layers = try (0..<configuration.layerCount).map { _ in
            try BertLayer(configuration, activation: activation, generator: generator)
        }
    }
}

/// The encoder's outputs.
public struct BertOutput {
    /// [batch, length, hidden]
    public var lastHiddenState: Tensor
    /// Mean of the hidden states over real (unmasked) tokens: [batch, hidden].
    public var meanPooled: Tensor
}

/// A BERT/RoBERTa encoder (embeddings + post-norm Transformer layers) with HF checkpoint keys.
public final class BertModel: Module {
    public let embeddings: BertEmbeddings
    public let encoder: BertEncoder
    public let configuration: BertConfiguration

    /// Checkpoint entries that are state of other frameworks, not weights: skipped when loading.
    public static let ignoredCheckpointKeys: Set<String> = ["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"]

    public init(_ configuration: BertConfiguration, generator: Generator? = nil) throws {
        guard configuration.headCount > 0, configuration.hiddenSize % configuration.headCount == 0 else {
            throw ModelError.invalidConfiguration(
                "hidden size \(configuration.hiddenSize) is not divisible by \(configuration.headCount) heads")
        }
        let activation = configuration.hiddenActivation.function
        embeddings = try BertEmbeddings(configuration, generator: generator)
        encoder = try BertEncoder(configuration, activation: activation, generator: generator)
        self.configuration = configuration
    }

    /// Loads HF weights (a `model.safetensors` state dict, optionally under a `bert.`/`roberta.` prefix).
    /// Every weight of the model must be present; unknown keys other than ``ignoredCheckpointKeys`` are errors.
    public func loadHuggingFaceWeights(_ state: [String: Tensor]) throws {
        var weights: [String: Tensor] = [:]
        for (key, tensor) in state {
            var name = key
            for prefix in ["bert.", "roberta."] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
            if Self.ignoredCheckpointKeys.contains(name) { continue }
            weights[name] = tensor
        }
        try load(stateDict: weights)
    }

    /// - Parameters:
    ///   - tokenIDs: [batch, length] int64
    ///   - attentionMask: [batch, length], 1 for real tokens and 0 for padding
    ///   - tokenTypeIDs: [batch, length] int64, or nil for all zeros
    public func callAsFunction(_ tokenIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor? = nil) throws
        -> BertOutput
    {
        guard tokenIDs.rank == 2, attentionMask.shape == tokenIDs.shape else {
            throw ModelError.invalidInput("token ids \(tokenIDs.shape) and mask \(attentionMask.shape) must be the same [batch, length]")
        }
        guard tokenIDs.size(1) <= configuration.maxPositions else {
            throw ModelError.invalidInput("\(tokenIDs.size(1)) tokens exceed the \(configuration.maxPositions) positions")
        }
        return try encode(embeddings(tokenIDs, tokenTypeIDs: tokenTypeIDs), attentionMask: attentionMask)
    }

    /// The encoder over word vectors instead of token ids ([batch, length, hidden], rows of
    /// `embeddings.wordEmbeddings.weight` or anything else): the entry point for gradients with respect to tokens.
    public func callAsFunction(wordVectors: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor? = nil) throws
        -> BertOutput
    {
        guard wordVectors.rank == 3, attentionMask.shape == Array(wordVectors.shape.prefix(2)) else {
            throw ModelError.invalidInput(
                "word vectors \(wordVectors.shape) need a [batch, length] mask, got \(attentionMask.shape)")
        }
        guard wordVectors.size(1) <= configuration.maxPositions else {
            throw ModelError.invalidInput("\(wordVectors.size(1)) tokens exceed the \(configuration.maxPositions) positions")
        }
        return try encode(
            embeddings(wordVectors: wordVectors, tokenTypeIDs: tokenTypeIDs), attentionMask: attentionMask)
    }

    private func encode(_ embedded: Tensor, attentionMask: Tensor) throws -> BertOutput {
        let keep = try attentionMask.ne(0)
        let mask = try keep.unsqueezed(1).unsqueezed(1)
        var x = embedded
        for layer in encoder.layers { x = try layer(x, mask: mask) }
        return BertOutput(lastHiddenState: x, meanPooled: try Self.meanPool(x, mask: keep))
    }

    /// Σ hᵢ·mᵢ / Σ mᵢ over the sequence.
    static func meanPool(_ hidden: Tensor, mask: Tensor) throws -> Tensor {
        let weights = try mask.to(dtype: hidden.dtype).unsqueezed(-1)
        let counts = try weights.sum(dimension: 1).clamped(min: 1e-9)
        return try (hidden * weights).sum(dimension: 1) / counts
    }
}
