import Torch
import TorchNN

/// The text tower: an encoder (BERT, or CLIP's causal Transformer), then the embedding head over its token states
/// (padding masked out).
public final class TextTower: Module {
    /// The BERT encoder (nil when the tower has CLIP's causal one).
    public let bert: BertModel?
    /// CLIP's causal text Transformer (nil when the tower has BERT). Its checkpoint keys are `causal.*`.
    public let causal: CausalTextTransformer?
    public let head: any TowerHead
    public let configuration: TextTowerConfiguration

    public init(_ configuration: TextTowerConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        switch configuration.encoder {
        case .bert(let bert):
            self.bert = try BertModel(bert, generator: generator)
            causal = nil
        case .causal(let causal):
            bert = nil
            self.causal = try CausalTextTransformer(causal, generator: generator)
        }
        head = try makeTowerHead(configuration.head, generator: generator)
    }

    /// The BERT encoder, or an error naming `purpose` when the tower has CLIP's causal one.
    public func requireBERT(for purpose: String) throws -> BertModel {
        guard let bert else {
            throw ModelError.invalidConfiguration(
                "\(purpose) needs a BERT text tower; this model's is CLIP's causal text Transformer")
        }
        return bert
    }

    /// The token embedding table [vocabulary, width] the encoder looks ids up in.
    public var wordEmbeddings: Tensor {
        get throws {
            if let bert { return bert.embeddings.wordEmbeddings.weight }
            return try requireCausal().tokenEmbedding.weight
        }
    }

    private func requireCausal() throws -> CausalTextTransformer {
        guard let causal else { throw ModelError.invalidConfiguration("a text tower without an encoder") }
        return causal
    }

    /// - Parameters:
    ///   - tokenIDs: [batch, length] int64
    ///   - attentionMask: [batch, length], 1 for tokens and 0 for padding
    /// - Returns: the joint-space embeddings [batch, embedding] (L2-normalised) and the encoder's last states
    public func encode(tokenIDs: Tensor, attentionMask: Tensor) throws -> (embedding: Tensor, hiddenStates: Tensor) {
        let hidden: Tensor
        if let bert {
            hidden = try bert(tokenIDs, attentionMask: attentionMask).lastHiddenState
        } else {
            guard attentionMask.shape == tokenIDs.shape else {
                throw ModelError.invalidInput(
                    "token ids \(tokenIDs.shape) and mask \(attentionMask.shape) must be the same [batch, length]")
            }
            hidden = try requireCausal()(tokenIDs)
        }
        let padding = try attentionMask.eq(0)
        return (try head(hidden, paddingMask: padding), hidden)
    }

    /// The joint-space embeddings [batch, embedding] from word vectors [batch, length, hidden] instead of token ids,
    /// so that gradients can be taken with respect to each token's vector.
    public func encode(wordVectors: Tensor, attentionMask: Tensor) throws -> Tensor {
        let hidden = if let bert {
            try bert(wordVectors: wordVectors, attentionMask: attentionMask).lastHiddenState
        } else {
            try requireCausal()(wordVectors: wordVectors)
        }
        return try head(hidden, paddingMask: attentionMask.eq(0))
    }

    public func callAsFunction(tokenIDs: Tensor, attentionMask: Tensor) throws -> Tensor {
        try encode(tokenIDs: tokenIDs, attentionMask: attentionMask).embedding
    }

    /// Stops training the embeddings and all but the last `trainableLayers` BERT layers (BriVL trains only the
    /// last layers of its pretrained text encoder); the head always trains.
    public func freezeBERT(keepingLastLayers trainableLayers: Int) throws {
        let bert = try requireBERT(for: "freezing BERT layers")
        let layers = bert.encoder.layers
        guard (0...layers.count).contains(trainableLayers) else {
            throw ModelError.invalidConfiguration(
                "cannot keep \(trainableLayers) trainable layers of a \(layers.count)-layer BERT")
        }
        try bert.embeddings.freeze()
        for (index, layer) in layers.enumerated() { try layer.freeze(index < layers.count - trainableLayers) }
    }
}
