import Tokenization

/// The project's WordPiece tokenizer as the loader's caption tokenizer: `[CLS]` pieces `[SEP]`, cut to the length.
extension BertTokenizer: CaptionTokenizer {
    public func tokenIDs(for text: String, maxLength: Int) throws -> [Int] {
        encode(text, maxLength: maxLength, pad: false).ids
    }
}
