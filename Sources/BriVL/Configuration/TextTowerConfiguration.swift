/// The text tower: a BERT encoder and the head over its token states (BriVL's set head, or CLIP's [CLS] projection).
public struct TextTowerConfiguration: Codable, Sendable, Equatable {
    public var bert: BertConfiguration
    public var head: TowerHeadConfiguration
    /// Tokens per caption, [CLS] and [SEP] included.
    public var maxLength: Int

    enum CodingKeys: String, CodingKey {
        case bert, head
        case maxLength = "max_length"
    }

    public init(bert: BertConfiguration, head: TowerHeadConfiguration, maxLength: Int) {
        self.bert = bert
        self.head = head
        self.maxLength = maxLength
    }

    /// A tower with BriVL's set head.
    public init(bert: BertConfiguration, head: EmbeddingHeadConfiguration, maxLength: Int) {
        self.init(bert: bert, head: .set(head), maxLength: maxLength)
    }

    public func validate() throws {
        try head.validate()
        if case .attentionPool = head {
            throw ModelError.invalidConfiguration("an attention-pool head reads an image feature map, not text tokens")
        }
        guard maxLength >= 2, maxLength <= bert.maxPositions else {
            throw ModelError.invalidConfiguration(
                "max_length \(maxLength) must be in 2...\(bert.maxPositions) (the encoder's positions)")
        }
        guard head.inputSize == bert.hiddenSize else {
            throw ModelError.invalidConfiguration(
                "the text head reads \(head.inputSize)-wide vectors but BERT's hidden size is \(bert.hiddenSize)")
        }
    }
}
