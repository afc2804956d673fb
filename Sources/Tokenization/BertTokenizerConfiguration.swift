/// The special tokens of a BERT vocabulary.
public struct SpecialTokens: Sendable, Equatable, Codable {
    public var unknown: String
    /// Starts every encoded sequence.
    public var classification: String
    /// Ends every encoded sequence.
    public var separator: String
    public var padding: String
    public var mask: String

    public init(
        unknown: String = "[UNK]", classification: String = "[CLS]", separator: String = "[SEP]",
        padding: String = "[PAD]", mask: String = "[MASK]"
    ) {
        self.unknown = unknown
        self.classification = classification
        self.separator = separator
        self.padding = padding
        self.mask = mask
    }

    /// In BERT's vocabulary order: padding, unknown, classification, separator, mask.
    public var all: [String] { [padding, unknown, classification, separator, mask] }
}

/// How a `BertTokenizer` normalises and splits text.
public struct BertTokenizerConfiguration: Sendable, Equatable, Codable {
    /// Lower-case every word (Unicode full lower-case mapping, Greek final sigma included).
    public var lowercase: Bool
    /// Remove accents (decompose with NFD, drop non-spacing marks); `nil` follows `lowercase`, as in BERT.
    public var stripAccents: Bool?
    /// Make every CJK ideograph (BERT's ranges) a word of its own, whatever the spaces around it.
    public var tokenizeChineseCharacters: Bool
    /// The sequence length of model inputs, `[CLS]` and `[SEP]` included, when a call gives none.
    public var maxLength: Int
    /// Longer words (in Unicode scalars, after normalisation) become `[UNK]` without a vocabulary search.
    public var maxInputCharactersPerWord: Int
    public var specialTokens: SpecialTokens
    /// Marks a word piece that continues a word.
    public var continuingSubwordPrefix: String

    public init(
        lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseCharacters: Bool = true,
        maxLength: Int = 512, maxInputCharactersPerWord: Int = 100, specialTokens: SpecialTokens = SpecialTokens(),
        continuingSubwordPrefix: String = "##"
    ) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseCharacters = tokenizeChineseCharacters
        self.maxLength = maxLength
        self.maxInputCharactersPerWord = maxInputCharactersPerWord
        self.specialTokens = specialTokens
        self.continuingSubwordPrefix = continuingSubwordPrefix
    }

    /// Whether accents are stripped, once `stripAccents`'s default is resolved.
    public var stripsAccents: Bool { stripAccents ?? lowercase }

    /// Chinese-CLIP's text settings (its `FullTokenizer` and `tokenize`): lower case, 52 tokens, and words of up to
    /// 200 characters before they become `[UNK]`.
    public static var chineseCLIP: BertTokenizerConfiguration {
        BertTokenizerConfiguration(maxLength: 52, maxInputCharactersPerWord: 200)
    }
}
