import Foundation

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A special token of the configuration is not in the vocabulary.
    case missingSpecialToken(String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .missingSpecialToken(let token): return "the vocabulary has no special token \(token)"
        case .invalidConfiguration(let reason): return "invalid tokenizer configuration: \(reason)"
        }
    }
}

/// BERT's tokenizer: basic tokenisation (cleaning, CJK isolation, lower-casing, accent stripping, punctuation
/// splitting) followed by greedy longest-match-first WordPiece, with the ids of Google's reference implementation.
///
/// Basic tokenisation, exactly:
/// 1. cleaning drops U+0000, U+FFFD and control/format characters (Cc, Cf) except tab, LF and CR, and turns those and
///    every Zs character into a space;
/// 2. each CJK ideograph of BERT's ranges becomes a word of its own;
/// 3. the text splits at spaces (and at U+2028/U+2029, as Python's `str.split` does);
/// 4. each piece is lower-cased (full Unicode mapping, final sigma in context), then decomposed (NFD) with its
///    non-spacing marks (Mn) dropped — by default both together, as BERT ties accent stripping to lower-casing;
/// 5. every punctuation character (ASCII 33–47, 58–64, 91–96, 123–126, or a Unicode P* category) becomes a word.
///
/// Each word then becomes the longest vocabulary entry that starts it, followed by the longest `##` entries that
/// continue it; a word with a part no entry matches, or longer than `maxInputCharactersPerWord`, becomes `[UNK]`.
///
/// The work is done on UTF-8 bytes with per-scalar flag tables and a byte trie of the vocabulary, allocating nothing
/// per word for text that needs no normalisation (ASCII without capitals, CJK, most punctuation).
/// A tokenizer is an immutable value: share it between threads freely.
public struct BertTokenizer: Sendable {
    public let vocabulary: Vocabulary
    public let configuration: BertTokenizerConfiguration
    public let unknownID: Int
    public let classificationID: Int
    public let separatorID: Int
    public let paddingID: Int
    public let maskID: Int

    /// Every vocabulary entry, for the first piece of a word.
    private let wordStarts: ByteTrie
    /// Entries with the continuation prefix, the prefix removed, for the following pieces.
    private let continuations: ByteTrie
    /// The id of the entry made of each BMP scalar alone, or -1: one-character words (every CJK ideograph and
    /// punctuation mark) skip the trie.
    private let singleScalarIDs: [Int32]
    /// The vocabulary-free first stage.
    public let basicTokenizer: BasicTokenizer

    /// - Throws: `TokenizerError.missingSpecialToken` when the vocabulary lacks one of the configuration's special
    ///   tokens, `.invalidConfiguration` for a non-positive `maxInputCharactersPerWord` or an empty prefix.
    public init(vocabulary: Vocabulary, configuration: BertTokenizerConfiguration = BertTokenizerConfiguration())
        throws
    {
        guard configuration.maxInputCharactersPerWord > 0 else {
            throw TokenizerError.invalidConfiguration("maxInputCharactersPerWord must be positive")
        }
        guard !configuration.continuingSubwordPrefix.isEmpty else {
            throw TokenizerError.invalidConfiguration("the continuing-subword prefix must not be empty")
        }
        guard configuration.maxLength >= 2 else {
            throw TokenizerError.invalidConfiguration("maxLength must leave room for [CLS] and [SEP]")
        }
        func specialID(_ token: String) throws -> Int {
            guard let id = vocabulary.id(for: token) else { throw TokenizerError.missingSpecialToken(token) }
            return id
        }
        let special = configuration.specialTokens
        unknownID = try specialID(special.unknown)
        classificationID = try specialID(special.classification)
        separatorID = try specialID(special.separator)
        paddingID = try specialID(special.padding)
        maskID = try specialID(special.mask)
        self.vocabulary = vocabulary
        self.configuration = configuration

        let prefix = Array(configuration.continuingSubwordPrefix.utf8)
        wordStarts = ByteTrie(vocabulary.tokens.enumerated().map { (key: Array($1.utf8), value: Int32($0)) })
        continuations = ByteTrie(
            vocabulary.tokens.enumerated().compactMap { id, token in
                let bytes = Array(token.utf8)
                guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
                return (key: Array(bytes[prefix.count...]), value: Int32(id))
            })
        var single = [Int32](repeating: -1, count: 0x1_0000)
        for (id, token) in vocabulary.tokens.enumerated() {
            var scalars = token.unicodeScalars.makeIterator()
            if let scalar = scalars.next(), scalars.next() == nil, scalar.value < 0x1_0000 {
                single[Int(scalar.value)] = Int32(id)
            }
        }
        singleScalarIDs = single
        basicTokenizer = BasicTokenizer(configuration: configuration)
    }

    /// Reads a `vocab.txt` and builds the tokenizer.
    public init(vocabularyFile url: URL, configuration: BertTokenizerConfiguration = BertTokenizerConfiguration())
        throws
    {
        try self.init(
            vocabulary: Vocabulary(contentsOf: url, unknownToken: configuration.specialTokens.unknown),
            configuration: configuration)
    }

    // MARK: - Encoding

    /// The word-piece ids of `text`, without special tokens, truncation or padding.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 2 + 4)
        appendIDs(of: text, to: &ids, limit: .max)
        return ids
    }

    /// The model input for `text`: `[CLS]`, at most `maxLength - 2` word pieces, `[SEP]`, then `[PAD]` up to
    /// `maxLength` when `pad` is true; the attention mask is 1 on real tokens and 0 on padding.
    /// (A `maxLength` below 2 leaves no room for the sequence: the result is the first `maxLength` of `[CLS]`,
    /// `[SEP]`, marked truncated.)
    public func encode(_ text: String, maxLength: Int, pad: Bool = true) -> Encoding {
        guard maxLength >= 2 else {
            let ids = Array([classificationID, separatorID].prefix(max(maxLength, 0)))
            return Encoding(
                ids: ids, attentionMask: Array(repeating: 1, count: ids.count), length: ids.count, isTruncated: true)
        }
        var ids: [Int] = []
        ids.reserveCapacity(min(maxLength, text.utf8.count + 2))
        ids.append(classificationID)
        // One piece past the limit tells whether anything was cut.
        appendIDs(of: text, to: &ids, limit: maxLength)
        let isTruncated = ids.count > maxLength - 1
        if isTruncated { ids.removeLast(ids.count - (maxLength - 1)) }
        ids.append(separatorID)
        let length = ids.count
        var mask = [Int](repeating: 1, count: length)
        if pad, length < maxLength {
            ids.append(contentsOf: repeatElement(paddingID, count: maxLength - length))
            mask.append(contentsOf: repeatElement(0, count: maxLength - length))
        }
        return Encoding(ids: ids, attentionMask: mask, length: length, isTruncated: isTruncated)
    }

    /// A batch of model inputs as flat row-major `Int64` arrays (`[batch, sequenceLength]`), ready to become
    /// tensors. `maxLength` defaults to the configuration's.
    public func encodeBatch(_ texts: [String], maxLength: Int? = nil, padding: BatchPadding = .maxLength)
        -> BatchEncoding<Int64>
    {
        encodeBatch(texts, maxLength: maxLength, padding: padding, as: Int64.self)
    }

    /// A batch of model inputs with elements of `Element` (e.g. `Int32`).
    public func encodeBatch<Element: FixedWidthInteger & Sendable>(
        _ texts: [String], maxLength: Int? = nil, padding: BatchPadding = .maxLength, as _: Element.Type
    ) -> BatchEncoding<Element> {
        let maxLength = maxLength ?? configuration.maxLength
        guard maxLength >= 2 else {
            // No room for a sequence: each row is the first `maxLength` of [CLS], [SEP] (see `encode`).
            let row = [Element(classificationID), Element(separatorID)].prefix(max(maxLength, 0))
            return BatchEncoding(
                ids: Array((0..<texts.count).map { _ in row }.joined()),
                attentionMask: Array(repeating: 1, count: texts.count * row.count), batchSize: texts.count,
                sequenceLength: row.count, lengths: Array(repeating: row.count, count: texts.count),
                truncatedCount: texts.count)
        }
        // Word pieces of every row, each cut to one past its room so that truncation shows.
        var pieces: [Int32] = []
        var ends: [Int] = []
        ends.reserveCapacity(texts.count)
        for text in texts {
            let start = pieces.count
            appendIDs(of: text, to: &pieces, limit: start + maxLength - 1)
            ends.append(pieces.count)
        }
        var lengths: [Int] = []
        lengths.reserveCapacity(texts.count)
        var truncated = 0
        var start = 0
        for end in ends {
            let count = end - start
            if count > maxLength - 2 { truncated += 1 }
            lengths.append(min(count, maxLength - 2) + 2)
            start = end
        }
        let sequenceLength: Int
        switch padding {
        case .maxLength: sequenceLength = maxLength
        case .longest: sequenceLength = lengths.max() ?? 2
        }
        var ids = [Element](repeating: Element(paddingID), count: texts.count * sequenceLength)
        var mask = [Element](repeating: 0, count: texts.count * sequenceLength)
        start = 0
        for (row, end) in ends.enumerated() {
            let base = row * sequenceLength
            let length = lengths[row]
            ids[base] = Element(classificationID)
            for offset in 0..<(length - 2) { ids[base + 1 + offset] = Element(pieces[start + offset]) }
            ids[base + length - 1] = Element(separatorID)
            for offset in 0..<length { mask[base + offset] = 1 }
            start = end
        }
        return BatchEncoding(
            ids: ids, attentionMask: mask, batchSize: texts.count, sequenceLength: sequenceLength, lengths: lengths,
            truncatedCount: truncated)
    }

    /// The word pieces of `text` as strings (`##` marking continuations).
    public func tokenize(_ text: String) -> [String] {
        tokens(for: encode(text))
    }

    /// The words of BERT's basic tokenisation (before WordPiece).
    public func basicTokenize(_ text: String) -> [String] { basicTokenizer.tokenize(text) }

    // MARK: - Decoding

    /// Tokens of `ids` (the unknown token for ids outside the vocabulary).
    public func tokens(for ids: [Int]) -> [String] {
        ids.map { vocabulary.token(for: $0) ?? configuration.specialTokens.unknown }
    }

    /// Ids of `tokens` (the unknown token's id for tokens outside the vocabulary).
    public func ids(for tokens: [String]) -> [Int] {
        tokens.map { vocabulary.id(for: $0) ?? unknownID }
    }

    /// Text from ids: continuation pieces join the piece before them; other tokens are separated by a space, except
    /// next to a CJK ideograph (basic tokenisation splits those whatever the spacing, so "中国" decodes as "中国").
    /// With `cleanUpSpaces`, the spaces BERT puts before `.`, `,`, `!`, `?` and English contractions are removed.
    /// - Parameter skipSpecialTokens: leave out `[CLS]`, `[SEP]` and `[PAD]` (`[UNK]` and `[MASK]` stay: they stand
    ///   for content).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true, cleanUpSpaces: Bool = true) -> String {
        decodeIDs(ids, skipSpecialTokens: skipSpecialTokens, cleanUpSpaces: cleanUpSpaces)
    }

    /// `decode` for ids of any integer type, e.g. a row of a `BatchEncoding<Int64>`.
    public func decode<S: Sequence>(_ ids: S, skipSpecialTokens: Bool = true, cleanUpSpaces: Bool = true) -> String
    where S.Element: BinaryInteger {
        decodeIDs(
            ids.map { Int(truncatingIfNeeded: $0) }, skipSpecialTokens: skipSpecialTokens, cleanUpSpaces: cleanUpSpaces)
    }

    private func decodeIDs(_ ids: [Int], skipSpecialTokens: Bool, cleanUpSpaces: Bool) -> String {
        let prefix = configuration.continuingSubwordPrefix
        var output = ""
        var previousEndsWithChinese = false
        for id in ids {
            if skipSpecialTokens, id == classificationID || id == separatorID || id == paddingID { continue }
            var token = vocabulary.token(for: id) ?? configuration.specialTokens.unknown
            if !output.isEmpty, token.hasPrefix(prefix), token.utf8.count > prefix.utf8.count {
                token.removeFirst(prefix.count)
            } else if !output.isEmpty {
                let startsWithChinese =
                    token.unicodeScalars.first.map {
                        CharacterTable.flags($0.value) & CharacterTable.chinese != 0
                    } ?? false
                if !(previousEndsWithChinese || startsWithChinese) { output += " " }
            }
            output += token
            previousEndsWithChinese =
                token.unicodeScalars.last.map {
                    CharacterTable.flags($0.value) & CharacterTable.chinese != 0
                } ?? false
        }
        guard cleanUpSpaces else { return output }
        for (spaced, joined) in [
            (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
        ] {
            output = output.replacingOccurrences(of: spaced, with: joined)
        }
        return output
    }

    // MARK: - WordPiece

    /// Appends the word-piece ids of `text`, stopping once `ids` holds `limit` elements or more.
    func appendIDs<Element: FixedWidthInteger>(of text: String, to ids: inout [Element], limit: Int) {
        guard ids.count < limit else { return }
        let maxCharacters = configuration.maxInputCharactersPerWord
        let unknown = Element(unknownID)
        singleScalarIDs.withUnsafeBufferPointer { single in
            basicTokenizer.forEachWord(in: text) { word, scalarCount in
                if scalarCount == 1, word.count < 4 {
                    // One BMP scalar: the whole word is an entry, or nothing matches.
                    let id = single[Int(BasicTokenizer.decodeScalar(word, at: 0).0)]
                    ids.append(id >= 0 ? Element(id) : unknown)
                } else if scalarCount > maxCharacters {
                    ids.append(unknown)
                } else {
                    appendWordPieces(of: word, to: &ids, unknown: unknown)
                }
                return ids.count < limit
            }
        }
    }

    /// Greedy longest-match-first: the longest entry starting the word, then the longest continuations; `[UNK]` for
    /// the whole word when some position matches nothing.
    @inline(__always)
    private func appendWordPieces<Element: FixedWidthInteger>(
        of word: UnsafeBufferPointer<UInt8>, to ids: inout [Element], unknown: Element
    ) {
        guard let first = wordStarts.longestPrefix(of: word, from: 0) else {
            ids.append(unknown)
            return
        }
        if first.end == word.count {
            ids.append(Element(first.value))
            return
        }
        let mark = ids.count
        ids.append(Element(first.value))
        var start = first.end
        while start < word.count {
            guard let piece = continuations.longestPrefix(of: word, from: start) else {
                ids.removeSubrange(mark...)
                ids.append(unknown)
                return
            }
            ids.append(Element(piece.value))
            start = piece.end
        }
    }
}

/// One model input: `[CLS]`, word pieces, `[SEP]`, padding.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    /// 1 for real tokens (specials included), 0 for padding.
    public var attentionMask: [Int]
    /// Real tokens, `[CLS]` and `[SEP]` included.
    public var length: Int
    /// Whether word pieces were cut to fit.
    public var isTruncated: Bool

    public init(ids: [Int], attentionMask: [Int], length: Int, isTruncated: Bool) {
        self.ids = ids
        self.attentionMask = attentionMask
        self.length = length
        self.isTruncated = isTruncated
    }
}

/// How a batch is padded.
public enum BatchPadding: Sendable, Equatable {
    /// Every row has `maxLength` elements: fixed shapes.
    case maxLength
    /// Rows are padded to the longest row of the batch (at most `maxLength`).
    case longest
}

/// A batch of model inputs as flat row-major arrays of shape `[batchSize, sequenceLength]`, for building tensors.
public struct BatchEncoding<Element: FixedWidthInteger & Sendable>: Sendable, Equatable {
    public var ids: [Element]
    public var attentionMask: [Element]
    public var batchSize: Int
    public var sequenceLength: Int
    /// Real tokens of each row, `[CLS]` and `[SEP]` included.
    public var lengths: [Int]
    /// How many rows lost word pieces to truncation.
    public var truncatedCount: Int

    public init(
        ids: [Element], attentionMask: [Element], batchSize: Int, sequenceLength: Int, lengths: [Int],
        truncatedCount: Int
    ) {
        self.ids = ids
        self.attentionMask = attentionMask
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.lengths = lengths
        self.truncatedCount = truncatedCount
    }

    /// `[batchSize, sequenceLength]`.
    public var shape: [Int] { [batchSize, sequenceLength] }

    /// The ids of one row.
    public func ids(row: Int) -> ArraySlice<Element> {
        ids[(row * sequenceLength)..<((row + 1) * sequenceLength)]
    }

    /// The attention mask of one row.
    public func attentionMask(row: Int) -> ArraySlice<Element> {
        attentionMask[(row * sequenceLength)..<((row + 1) * sequenceLength)]
    }
}
