import Torch
import TorchNN

/// The text tower: a BERT encoder, then the embedding head over its token states (padding masked out).
public final class TextTower: Module {
    public let bert: BertModel
    public let head: any TowerHead
    public let configuration: TextTowerConfiguration

    public init(_ configuration: TextTowerConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        bert = try BertModel(configuration.bert, generator: generator)
        head = try makeTowerHead(configuration.head, generator: generator)
    }

    /// - Parameters:
    ///   - tokenIDs: [batch, length] int64
    ///   - attentionMask: [batch, length], 1 for tokens and 0 for padding
    /// - Returns: the joint-space embeddings [batch, embedding] (L2-normalised) and BERT's last hidden states
    public func encode(tokenIDs: Tensor, attentionMask: Tensor) throws -> (embedding: Tensor, hiddenStates: Tensor) {
        let hidden = try bert(tokenIDs, attentionMask: attentionMask).lastHiddenState
        let padding = try attentionMask.eq(0)
        return (try head(hidden, paddingMask: padding), hidden)
    }

    /// The joint-space embeddings [batch, embedding] from word vectors [batch, length, hidden] instead of token ids,
    /// so that gradients can be taken with respect to each token's vector.
    public func encode(wordVectors: Tensor, attentionMask: Tensor) throws -> Tensor {
        let hidden = try bert(wordVectors: wordVectors, attentionMask: attentionMask).lastHiddenState
        return try head(hidden, paddingMask: attentionMask.eq(0))
    }

    public func callAsFunction(tokenIDs: Tensor, attentionMask: Tensor) throws -> Tensor {
        try encode(tokenIDs: tokenIDs, attentionMask: attentionMask).embedding
    }

    /// Stops training the embeddings and all but the last `trainableLayers` BERT layers (BriVL trains only the
    /// last layers of its pretrained text encoder); the head always trains.
    public func freezeBERT(keepingLastLayers trainableLayers: Int) throws {
        let layers = bert.encoder.layers
        guard (0...layers.count).contains(trainableLayers) else {
            throw ModelError.invalidConfiguration(
                "cannot keep \(trainableLayers) trainable layers of a \(layers.count)-layer BERT")
        }
        try bert.embeddings.freeze()
        for (index, layer) in layers.enumerated() { try layer.freeze(index < layers.count - trainableLayers) }
    }
}
