/// What a text tower's input needs from a tokenizer, WordPiece (``BertTokenizer``) or CLIP's BPE
/// (``CLIPTokenizer``): padded rows of ids with their mask, and the vocabulary's size to check against the model.
public protocol TextTokenizer: Sendable {
    /// Entries of the vocabulary: the rows the text tower's token embedding must have.
    var vocabularySize: Int { get }

    /// Model input rows of at most `maxLength` ids (special tokens included), padded with the padding id (mask 0).
    func encodeBatch(_ texts: [String], maxLength: Int?, padding: BatchPadding) -> BatchEncoding<Int64>

    /// A readable token for each id (for explanations).
    func tokens(for ids: [Int]) -> [String]
}

extension TextTokenizer {
    /// Rows of exactly `maxLength` ids (nil: the tokenizer's own length).
    public func encodeBatch(_ texts: [String], maxLength: Int?) -> BatchEncoding<Int64> {
        encodeBatch(texts, maxLength: maxLength, padding: .maxLength)
    }
}

extension BertTokenizer: TextTokenizer {
    public var vocabularySize: Int { vocabulary.count }
}

extension CLIPTokenizer: TextTokenizer {
    public func encodeBatch(_ texts: [String], maxLength: Int?, padding: BatchPadding) -> BatchEncoding<Int64> {
        encodeBatch(texts, contextLength: maxLength ?? Self.contextLength, padding: padding)
    }
}
