import Foundation

/// Builds a WordPiece vocabulary from a corpus, for users without one.
///
/// The usual procedure (as Hugging Face's WordPiece trainer): basic-tokenise the corpus as the tokenizer will, count
/// the words, split each word into characters — the first as is, the others with the continuation prefix (`##`) —
/// then repeatedly merge the best adjacent pair of symbols into a new vocabulary entry until the vocabulary has
/// `vocabularySize` entries or no pair occurs `minimumFrequency` times. The vocabulary lists the special tokens, the
/// alphabet (each character alone, and with `##` unless basic tokenisation always splits it off: CJK ideographs and
/// punctuation), then the merged entries in the order they were made.
///
/// Training is deterministic: words are processed in byte order and ties between pairs are broken by the symbols'
/// ids (characters in code point order, then merged entries in creation order), never by hash order.
public struct WordPieceTrainer: Sendable {
    /// How the pair to merge is chosen.
    public enum Scoring: Sendable, Equatable {
        /// The most frequent pair (BPE-style; Hugging Face's WordPiece trainer).
        case frequency
        /// The pair maximising count(ab) / (count(a) · count(b)), the likelihood gain of merging (Google's WordPiece
        /// as usually described). Rescans all pairs at each merge: for corpora of moderate size.
        case likelihood
    }

    public var vocabularySize: Int
    /// Pairs occurring fewer times are never merged.
    public var minimumFrequency: Int
    /// Keep at most this many characters (the most frequent; ties by code point) besides `initialAlphabet`; words
    /// with other characters are left out of training (they encode as `[UNK]`).
    public var limitAlphabet: Int?
    /// Characters in the vocabulary whether or not the corpus has them.
    public var initialAlphabet: [Unicode.Scalar]
    /// The first entries of the vocabulary, in order; by default the configuration's special tokens in BERT order.
    public var specialTokens: [String]
    public var scoring: Scoring
    /// Basic tokenisation settings, the continuation prefix and the word-length limit: those of the tokenizer that
    /// will use the vocabulary.
    public var configuration: BertTokenizerConfiguration

    public init(
        vocabularySize: Int, minimumFrequency: Int = 2, limitAlphabet: Int? = nil,
        initialAlphabet: [Unicode.Scalar] = [],
        specialTokens: [String]? = nil, scoring: Scoring = .frequency,
        configuration: BertTokenizerConfiguration = BertTokenizerConfiguration()
    ) {
        self.vocabularySize = vocabularySize
        self.minimumFrequency = minimumFrequency
        self.limitAlphabet = limitAlphabet
        self.initialAlphabet = initialAlphabet
        self.specialTokens = specialTokens ?? configuration.specialTokens.all
        self.scoring = scoring
        self.configuration = configuration
    }

    /// Trains on the lines of text files (UTF-8).
    public func train(files: [URL]) throws -> Vocabulary {
        var lines: [String] = []
        for url in files {
            let text = try String(contentsOf: url, encoding: .utf8)
            lines.append(contentsOf: text.split(whereSeparator: \.isNewline).map(String.init))
        }
        return try train(lines)
    }

    /// Trains on texts (sentences, lines, documents).
    public func train(_ texts: some Sequence<String>) throws -> Vocabulary {
        let basic = BasicTokenizer(configuration: configuration)
        let maxCharacters = configuration.maxInputCharactersPerWord

        // Word counts, by exact bytes.
        var wordCounts: [[UInt8]: Int] = [:]
        for text in texts {
            basic.forEachWord(in: text) { bytes, scalars in
                if scalars <= maxCharacters { wordCounts[Array(bytes), default: 0] += 1 }
                return true
            }
        }
        let sortedWords = wordCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let wordScalars = sortedWords.map { String(decoding: $0.key, as: UTF8.self).unicodeScalars.map(\.self) }

        // The alphabet.
        var characterCounts: [Unicode.Scalar: Int] = [:]
        for (scalars, entry) in zip(wordScalars, sortedWords) {
            for scalar in scalars { characterCounts[scalar, default: 0] += entry.value }
        }
        var alphabet = Set(characterCounts.keys)
        if let limit = limitAlphabet, alphabet.count > limit {
            let kept = characterCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(max(limit, 0)).map(\.key)
            alphabet = Set(kept)
        }
        alphabet.formUnion(initialAlphabet)

        var state = MergeState(prefix: configuration.continuingSubwordPrefix)
        for token in specialTokens { _ = state.addToken(token) }
        let sortedAlphabet = alphabet.sorted()
        for scalar in sortedAlphabet { _ = state.addToken(String(scalar)) }
        let isolateChinese = configuration.tokenizeChineseCharacters
        for scalar in sortedAlphabet {
            let flags = CharacterTable.flags(scalar.value)
            let alwaysAlone =
                flags & CharacterTable.punctuation != 0 || (isolateChinese && flags & CharacterTable.chinese != 0)
            if !alwaysAlone { _ = state.addToken(state.prefix + String(scalar)) }
        }

        // Words as symbol sequences (words with characters outside the alphabet left out).
        for (scalars, entry) in zip(wordScalars, sortedWords) {
            guard scalars.allSatisfy({ alphabet.contains($0) }) else { continue }
            let symbols = scalars.enumerated().map { index, scalar in
                state.addToken(index == 0 ? String(scalar) : state.prefix + String(scalar))
            }
            state.addWord(symbols, count: entry.value)
        }

        while state.tokens.count < vocabularySize {
            let best: UInt64?
            switch scoring {
            case .frequency: best = state.mostFrequentPair(minimumCount: max(minimumFrequency, 1))
            case .likelihood: best = state.mostLikelyPair(minimumCount: max(minimumFrequency, 1))
            }
            guard let pair = best else { break }
            state.merge(pair)
        }
        return try Vocabulary(tokens: state.tokens, unknownToken: configuration.specialTokens.unknown)
    }
}

/// Symbols, words and pair statistics during training. A pair of symbols `a`, `b` is the key `a << 32 | b`.
private struct MergeState {
    let prefix: String
    /// Vocabulary entries in order; symbols are their indices.
    var tokens: [String] = []
    var ids: [ExactString: Int32] = [:]
    var words: [[Int32]] = []
    var wordCounts: [Int] = []
    /// Occurrences of each symbol in the corpus (word counts included).
    var symbolCounts: [Int] = []
    var pairCounts: [UInt64: Int] = [:]
    /// Words holding each pair (possibly listed more than once, possibly no longer holding it).
    var pairWords: [UInt64: [Int32]] = [:]
    /// Candidate pairs for frequency scoring: a max-heap whose entries may be stale (checked when popped).
    var heap = PairHeap()
    /// Whether the heap must be rebuilt from `pairCounts` (after words were added).
    var heapDirty = true
    var visited: [Int] = []
    var mergeNumber = 0

    init(prefix: String) { self.prefix = prefix }

    /// The symbol of `token`, added to the vocabulary when new.
    mutating func addToken(_ token: String) -> Int32 {
        if let id = ids[ExactString(token)] { return id }
        let id = Int32(tokens.count)
        tokens.append(token)
        ids[ExactString(token)] = id
        symbolCounts.append(0)
        return id
    }

    static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    mutating func addWord(_ symbols: [Int32], count: Int) {
        let index = Int32(words.count)
        words.append(symbols)
        wordCounts.append(count)
        visited.append(-1)
        for symbol in symbols { symbolCounts[Int(symbol)] += count }
        for (a, b) in zip(symbols, symbols.dropFirst()) {
            let key = Self.key(a, b)
            pairCounts[key, default: 0] += count
            pairWords[key, default: []].append(index)
        }
        heapDirty = true
    }

    mutating func mostFrequentPair(minimumCount: Int) -> UInt64? {
        if heapDirty {
            heap = PairHeap()
            for (key, count) in pairCounts { heap.push(count: count, key: key) }
            heapDirty = false
        }
        while let top = heap.pop() {
            let current = pairCounts[top.key] ?? 0
            if current != top.count {
                if current > 0 { heap.push(count: current, key: top.key) }
                continue
            }
            return current >= minimumCount ? top.key : nil
        }
        return nil
    }

    func mostLikelyPair(minimumCount: Int) -> UInt64? {
        var best: (key: UInt64, score: Double, count: Int)? = nil
        for (key, count) in pairCounts where count >= minimumCount {
            let a = Int(key >> 32)
            let b = Int(key & 0xFFFF_FFFF)
            let score = Double(count) / (Double(symbolCounts[a]) * Double(symbolCounts[b]))
            if let current = best {
                if score < current.score { continue }
                if score == current.score {
                    if count < current.count { continue }
                    if count == current.count, key > current.key { continue }
                }
            }
            best = (key, score, count)
        }
        return best?.key
    }

    /// Merges every occurrence of the pair, left to right, into its symbol (a new entry unless the same string was
    /// already made another way).
    mutating func merge(_ pair: UInt64) {
        let a = Int32(pair >> 32)
        let b = Int32(pair & 0xFFFF_FFFF)
        var continuation = tokens[Int(b)]
        if continuation.hasPrefix(prefix) { continuation.removeFirst(prefix.count) }
        let merged = addToken(tokens[Int(a)] + continuation)
        mergeNumber += 1
        let wordList = pairWords[pair] ?? []
        pairWords[pair] = nil
        var increased: Set<UInt64> = []
        for wordIndex in wordList {
            let index = Int(wordIndex)
            guard visited[index] != mergeNumber else { continue }
            visited[index] = mergeNumber
            let old = words[index]
            guard zip(old, old.dropFirst()).contains(where: { $0 == a && $1 == b }) else { continue }
            let count = wordCounts[index]
            var new: [Int32] = []
            new.reserveCapacity(old.count)
            var position = 0
            while position < old.count {
                if position + 1 < old.count, old[position] == a, old[position + 1] == b {
                    new.append(merged)
                    position += 2
                } else {
                    new.append(old[position])
                    position += 1
                }
            }
            for (x, y) in zip(old, old.dropFirst()) {
                let key = Self.key(x, y)
                let remaining = (pairCounts[key] ?? 0) - count
                pairCounts[key] = remaining > 0 ? remaining : nil
            }
            for symbol in old { symbolCounts[Int(symbol)] -= count }
            for symbol in new { symbolCounts[Int(symbol)] += count }
            for (x, y) in zip(new, new.dropFirst()) {
                let key = Self.key(x, y)
                pairCounts[key, default: 0] += count
                pairWords[key, default: []].append(wordIndex)
                increased.insert(key)
            }
            words[index] = new
        }
        if !heapDirty {
            for key in increased.sorted() {
                if let count = pairCounts[key] { heap.push(count: count, key: key) }
            }
        }
    }
}

/// A binary max-heap of (count, pair), larger counts first and, among equal counts, smaller pair keys first.
private struct PairHeap {
    private var entries: [(count: Int, key: UInt64)] = []

    private static func above(_ lhs: (count: Int, key: UInt64), _ rhs: (count: Int, key: UInt64)) -> Bool {
        lhs.count != rhs.count ? lhs.count > rhs.count : lhs.key < rhs.key
    }

    mutating func push(count: Int, key: UInt64) {
        entries.append((count, key))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.above(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (count: Int, key: UInt64)? {
        guard !entries.isEmpty else { return nil }
        let top = entries[0]
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var best = parent
                if left < entries.count, Self.above(entries[left], entries[best]) { best = left }
                if right < entries.count, Self.above(entries[right], entries[best]) { best = right }
                if best == parent { break }
                entries.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
