/// The text tower: an encoder over the tokens and the head over its token states (BriVL's set head, CLIP's
/// [CLS] projection, or CLIP's end-of-text projection after a causal encoder).
public struct TextTowerConfiguration: Sendable, Equatable {
    /// The network that turns token ids into token states.
    public enum TextEncoder: Sendable, Equatable {
        /// A BERT / RoBERTa encoder (BriVL, Chinese-CLIP), read by a WordPiece tokenizer.
        case bert(BertConfiguration)
        /// CLIP's causal text Transformer (OpenAI CLIP, OpenCLIP), read by CLIP's BPE tokenizer.
        case causal(CausalTextConfiguration)
    }

    public var encoder: TextEncoder
    public var head: TowerHeadConfiguration
    /// Tokens per caption, the start and end tokens ([CLS] and [SEP]) included.
    public var maxLength: Int

    public init(encoder: TextEncoder, head: TowerHeadConfiguration, maxLength: Int) {
        self.encoder = encoder
        self.head = head
        self.maxLength = maxLength
    }

    public init(bert: BertConfiguration, head: TowerHeadConfiguration, maxLength: Int) {
        self.init(encoder: .bert(bert), head: head, maxLength: maxLength)
    }

    /// A tower with BriVL's set head.
    public init(bert: BertConfiguration, head: EmbeddingHeadConfiguration, maxLength: Int) {
        self.init(bert: bert, head: .set(head), maxLength: maxLength)
    }

    /// The BERT encoder, when the tower has one.
    public var bert: BertConfiguration? {
        if case .bert(let bert) = encoder { return bert }
        return nil
    }

    /// The causal encoder, when the tower has one.
    public var causal: CausalTextConfiguration? {
        if case .causal(let causal) = encoder { return causal }
        return nil
    }

    /// Rows of the token embedding: the tokenizer's vocabulary must have exactly as many entries.
    public var vocabularySize: Int {
        get {
            switch encoder {
            case .bert(let bert): bert.vocabularySize
            case .causal(let causal): causal.vocabularySize
            }
        }
        set {
            switch encoder {
            case .bert(var bert):
                bert.vocabularySize = newValue
                encoder = .bert(bert)
            case .causal(var causal):
                causal.vocabularySize = newValue
                encoder = .causal(causal)
            }
        }
    }

    /// Width of the token states the head reads.
    public var hiddenSize: Int {
        switch encoder {
        case .bert(let bert): bert.hiddenSize
        case .causal(let causal): causal.width
        }
    }

    /// The longest input the encoder's positions allow.
    public var maxPositions: Int {
        switch encoder {
        case .bert(let bert): bert.maxPositions
        case .causal(let causal): causal.positions
        }
    }

    /// The BERT encoder, or an error naming `purpose` when the tower has CLIP's causal one.
    public func requireBERT(for purpose: String) throws -> BertConfiguration {
        guard let bert else {
            throw ModelError.invalidConfiguration(
                "\(purpose) needs a BERT text tower; this model's is CLIP's causal text Transformer")
        }
        return bert
    }

    public func validate() throws {
        try head.validate()
        switch head {
        case .attentionPool:
            throw ModelError.invalidConfiguration("an attention-pool head reads an image feature map, not text tokens")
        case .endToken where bert != nil:
            throw ModelError.invalidConfiguration("an end-token head reads a causal encoder; BERT's summary is [CLS]")
        case .classToken where causal != nil:
            throw ModelError.invalidConfiguration(
                "a class-token head on a causal encoder would read the start token, which has seen nothing else: "
                    + "use an end-token head")
        default: break
        }
        if let causal { try causal.validate() }
        guard maxLength >= 2, maxLength <= maxPositions else {
            throw ModelError.invalidConfiguration(
                "max_length \(maxLength) must be in 2...\(maxPositions) (the encoder's positions)")
        }
        guard head.inputSize == hiddenSize else {
            throw ModelError.invalidConfiguration(
                "the text head reads \(head.inputSize)-wide vectors but the encoder's width is \(hiddenSize)")
        }
    }
}

/// `bert` holds a BERT encoder's Hugging Face configuration as every earlier checkpoint has it; a causal encoder
/// is written under `causal` instead.
extension TextTowerConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case bert, causal, head
        case maxLength = "max_length"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let causal = try container.decodeIfPresent(CausalTextConfiguration.self, forKey: .causal) {
            encoder = .causal(causal)
        } else {
            encoder = .bert(try container.decode(BertConfiguration.self, forKey: .bert))
        }
        head = try container.decode(TowerHeadConfiguration.self, forKey: .head)
        maxLength = try container.decode(Int.self, forKey: .maxLength)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self.encoder {
        case .bert(let bert): try container.encode(bert, forKey: .bert)
        case .causal(let causal): try container.encode(causal, forKey: .causal)
        }
        try container.encode(head, forKey: .head)
        try container.encode(maxLength, forKey: .maxLength)
    }
}
