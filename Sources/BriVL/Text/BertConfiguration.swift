import Foundation
import TorchNN

/// The feed-forward activations of Hugging Face BERT configurations, by their `hidden_act` names.
public enum BertActivation: String, Codable, Sendable, CaseIterable {
    /// The exact GELU.
    case gelu
    /// The tanh approximation of GELU, under both of its names.
    case geluNew = "gelu_new"
    case geluPytorchTanh = "gelu_pytorch_tanh"
    case relu

    /// The layer function it names.
    public var function: Activation {
        switch self {
        case .gelu: return .gelu
        case .geluNew, .geluPytorchTanh: return .geluTanh
        case .relu: return .relu
        }
    }
}

/// A BERT encoder's shape, read from (and written as) a Hugging Face `config.json`.
public struct BertConfiguration: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var hiddenActivation: BertActivation
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEps: Double
    public var hiddenDropout: Double
    public var attentionDropout: Double

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenActivation = "hidden_act"
        case maxPositions = "max_position_embeddings"
        case typeVocabularySize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps"
        case hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob"
    }

    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        hiddenActivation: BertActivation = .gelu, maxPositions: Int = 512, typeVocabularySize: Int = 2,
        layerNormEps: Double = 1e-12, hiddenDropout: Double = 0.1, attentionDropout: Double = 0.1
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.hiddenActivation = hiddenActivation
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEps = layerNormEps
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
    }

    /// chinese-roberta-wwm-ext, BriVL's text backbone: 12 layers, hidden 768, 12 heads, FFN 3072, the 21,128-entry
    /// Chinese BERT vocabulary (its released config.json).
    public static let chineseRobertaBase = BertConfiguration(
        vocabularySize: 21128, hiddenSize: 768, layerCount: 12, headCount: 12, intermediateSize: 3072)

    /// Reads a Hugging Face `config.json`; keys other than the ones above are ignored.
    public static func read(from path: String) throws -> BertConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.io(file: path, message: "cannot read the configuration")
        }
        do {
            return try JSONDecoder().decode(BertConfiguration.self, from: data)
        } catch {
            throw ModelError.invalidConfiguration("\(path) is not a BERT configuration: \(error)")
        }
    }
}
