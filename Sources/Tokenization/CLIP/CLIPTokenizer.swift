import Foundation
import GzipFiles

/// OpenAI CLIP's byte-level BPE, as OpenCLIP's `SimpleTokenizer` applies it (context 77, `clean="lower"`): the text
/// is cleaned (``CLIPTextCleaning``), split into words, numbers and punctuation runs, each piece's UTF-8 bytes are
/// spelled with 256 printable stand-ins, the last one marked end-of-word (`</w>`), and merged pair by pair in the
/// order of the merges file (`bpe_simple_vocab_16e6.txt.gz`: 48,894 merges, a 49,408-entry vocabulary).
///
/// Ids: the 256 byte symbols, the same with `</w>`, one per merge, then `<start_of_text>` (49,406) and
/// `<end_of_text>` (49,407). A row is start, the pieces' ids, end; a row past the context keeps its first
/// `contextLength` ids and ends with `<end_of_text>` in the last place, as OpenCLIP truncates. Padding is 0.
public final class CLIPTokenizer: @unchecked Sendable {
    /// OpenCLIP's context length.
    public static let contextLength = 77
    /// The merges file's name, as OpenCLIP ships it (and as a run folder keeps it).
    public static let mergesFileName = "bpe_simple_vocab_16e6.txt.gz"
    /// The merges OpenCLIP reads from the file: lines 2 … 48,895 (49,152 − 256 − 2 of them, less the header).
    public static let mergeCount = 49152 - 256 - 2

    public let vocabularySize: Int
    public let startID: Int
    public let endID: Int

    private let ids: [String: Int]
    /// The symbol of each id, and each byte stand-in's byte (for ``tokens(for:)``).
    private let symbols: [String]
    private let byteOfSymbol: [Unicode.Scalar: UInt8]
    /// "first second" → rank (lower merges first). Symbols never hold a space: the space byte is spelled "Ġ".
    private let ranks: [String: Int]
    /// The stand-in of each byte value.
    private let spelling: [String]
    private let lock = NSLock()
    private var cache: [String: [Int]] = [:]

    /// - Parameter merges: the merges file's text (a header line, then one "first second" pair per line)
    public init(merges: String) throws {
        let lines = merges.split(separator: "\n", omittingEmptySubsequences: false)
        let pairs = lines.dropFirst().prefix(Self.mergeCount)
        guard !pairs.isEmpty else { throw TokenizerError.invalidConfiguration("the BPE merges file holds no merge") }
        let spelling = Self.byteSpelling()
        self.spelling = spelling
        let byteSymbols = Self.byteOrder.map { spelling[$0] }
        var vocabulary = byteSymbols + byteSymbols.map { $0 + "</w>" }
        var ranks: [String: Int] = [:]
        for (offset, line) in pairs.enumerated() {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else {
                throw TokenizerError.invalidConfiguration(
                    "BPE merges line \(offset + 2) is \(String(line).debugDescription), not two symbols")
            }
            // A pair listed twice keeps its last rank, as in Python's dict(zip(merges, range)).
            ranks["\(parts[0]) \(parts[1])"] = offset
            vocabulary.append(String(parts[0] + parts[1]))
        }
        vocabulary += ["<start_of_text>", "<end_of_text>"]
        // Later duplicates win, as in Python's dict(zip(vocab, range)).
        var ids: [String: Int] = [:]
        for (id, symbol) in vocabulary.enumerated() { ids[symbol] = id }
        self.ids = ids
        symbols = vocabulary
        var byteOfSymbol: [Unicode.Scalar: UInt8] = [:]
        for (byte, symbol) in spelling.enumerated() { byteOfSymbol[symbol.unicodeScalars.first!] = UInt8(byte) }
        self.byteOfSymbol = byteOfSymbol
        self.ranks = ranks
        vocabularySize = vocabulary.count
        startID = vocabulary.count - 2
        endID = vocabulary.count - 1
        cache = ["<start_of_text>": [startID], "<end_of_text>": [endID]]
    }

    /// Reads a merges file, gzip-compressed (as OpenCLIP ships it) or not.
    public convenience init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VocabularyError.fileNotFound(path: path)
        }
        var bytes = [UInt8](data)
        if Gzip.isCompressed(bytes) {
            do {
                bytes = try Gzip.decompress(bytes, file: path)
            } catch let error as GzipError {
                throw VocabularyError.unreadableFile(path: path, reason: error.reason)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw VocabularyError.invalidUTF8(path: path) }
        try self.init(merges: text)
    }

    /// Printable Latin-1 bytes (they spell themselves), in the order of the vocabulary's first ids.
    private static let printableBytes = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    /// The byte of each of the vocabulary's first 256 ids: the printable ones, then the other 68 in order.
    private static let byteOrder = printableBytes + (0..<256).filter { !printableBytes.contains($0) }

    /// GPT-2's byte stand-ins, indexed by byte: printable bytes spell themselves, the other 68 take U+0100 onwards.
    private static func byteSpelling() -> [String] {
        var table = [String](repeating: "", count: 256)
        for byte in printableBytes { table[byte] = String(Unicode.Scalar(UInt8(byte))) }
        for (offset, byte) in byteOrder.dropFirst(printableBytes.count).enumerated() {
            table[byte] = String(Unicode.Scalar(0x100 + UInt32(offset))!)
        }
        return table
    }

    // MARK: - Encoding

    /// The ids of `text`'s pieces, without start and end.
    public func encode(_ text: String) -> [Int] {
        CLIPPieces.split(CLIPTextCleaning.clean(text)).flatMap { bpe($0) }
    }

    /// One model input row: start, pieces, end; at most `contextLength` ids (the last one then end).
    public func encodeRow(_ text: String, contextLength: Int = contextLength) -> (ids: [Int], truncated: Bool) {
        var row = [startID] + encode(text) + [endID]
        guard row.count > contextLength else { return (row, false) }
        row = Array(row.prefix(max(contextLength, 0)))
        if !row.isEmpty { row[row.count - 1] = endID }
        return (row, true)
    }

    /// A batch of rows, padded with 0 (attention mask 0) to `contextLength` or to the longest row.
    public func encodeBatch(
        _ texts: [String], contextLength: Int = contextLength, padding: BatchPadding = .maxLength
    ) -> BatchEncoding<Int64> {
        let rows = texts.map { encodeRow($0, contextLength: contextLength) }
        let width = padding == .maxLength ? contextLength : (rows.map(\.ids.count).max() ?? 0)
        var ids: [Int64] = []
        var mask: [Int64] = []
        ids.reserveCapacity(rows.count * width)
        mask.reserveCapacity(rows.count * width)
        for row in rows {
            ids += row.ids.map(Int64.init) + Array(repeating: 0, count: width - row.ids.count)
            mask += Array(repeating: 1, count: row.ids.count) + Array(repeating: 0, count: width - row.ids.count)
        }
        return BatchEncoding(
            ids: ids, attentionMask: mask, batchSize: rows.count, sequenceLength: width, lengths: rows.map(\.ids.count),
            truncatedCount: rows.filter(\.truncated).count)
    }

    /// Each id's text: its bytes (a piece of a multi-byte character shows as U+FFFD), "</w>" as a trailing space
    /// dropped; the special tokens by name.
    public func tokens(for ids: [Int]) -> [String] {
        ids.map { id in
            guard symbols.indices.contains(id) else { return "<unknown \(id)>" }
            let symbol = symbols[id]
            if id >= startID { return symbol }
            let word = symbol.hasSuffix("</w>") ? String(symbol.dropLast(4)) : symbol
            let bytes = word.unicodeScalars.compactMap { byteOfSymbol[$0] }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A piece's ids: its bytes spelled, then merged lowest rank first until no ranked pair is left.
    private func bpe(_ piece: String) -> [Int] {
        lock.lock()
        if let cached = cache[piece] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        var word = piece.utf8.map { spelling[Int($0)] }
        guard !word.isEmpty else { return [] }
        word[word.count - 1] += "</w>"
        while word.count > 1 {
            var best: (rank: Int, first: String, second: String)?
            for index in 0..<(word.count - 1) {
                if let rank = ranks["\(word[index]) \(word[index + 1])"], rank < (best?.rank ?? .max) {
                    best = (rank, word[index], word[index + 1])
                }
            }
            guard let best else { break }
            var merged: [String] = []
            merged.reserveCapacity(word.count)
            var index = 0
            while index < word.count {
                if index < word.count - 1, word[index] == best.first, word[index + 1] == best.second {
                    merged.append(best.first + best.second)
                    index += 2
                } else {
                    merged.append(word[index])
                    index += 1
                }
            }
            word = merged
        }
        let result = word.compactMap { ids[$0] }
        lock.lock()
        cache[piece] = result
        lock.unlock()
        return result
    }
}

/// CLIP's pre-tokenisation pattern, `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|
/// [^\s\p{L}\p{N}]+` (case-insensitive), matched leftmost-first over Unicode scalars; whitespace between matches
/// is dropped.
enum CLIPPieces {
    private static let specials = ["<start_of_text>", "<end_of_text>"].map { Array($0.unicodeScalars) }
    private static let contractions = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    /// Case-insensitive equality of one pattern letter and a text scalar (simple case folding: "ſ" is an "s").
    private static func matches(_ pattern: Unicode.Scalar, _ scalar: Unicode.Scalar) -> Bool {
        if scalar == pattern { return true }
        if pattern == "s", scalar == "\u{17F}" { return true }
        return scalar.properties.lowercaseMapping == String(pattern)
    }

    private static func hasPrefix(_ scalars: [Unicode.Scalar], at index: Int, _ prefix: [Unicode.Scalar]) -> Bool {
        guard index + prefix.count <= scalars.count else { return false }
        return zip(prefix, scalars[index..<(index + prefix.count)]).allSatisfy { matches($0, $1) }
    }

    static func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        var index = 0
        func take(_ end: Int) {
            pieces.append(String(String.UnicodeScalarView(scalars[index..<end])))
            index = end
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if let special = specials.first(where: { hasPrefix(scalars, at: index, $0) }) {
                take(index + special.count)
            } else if scalar == "'",
                let contraction = contractions.first(where: { hasPrefix(scalars, at: index + 1, $0) })
            {
                take(index + 1 + contraction.count)
            } else if isLetter(scalar) {
                var end = index + 1
                while end < scalars.count, isLetter(scalars[end]) { end += 1 }
                take(end)
            } else if isNumber(scalar) {
                take(index + 1)
            } else if CLIPTextCleaning.isWhitespace(scalar) {
                index += 1
            } else {
                var end = index + 1
                while end < scalars.count, !CLIPTextCleaning.isWhitespace(scalars[end]), !isLetter(scalars[end]),
                    !isNumber(scalars[end])
                {
                    end += 1
                }
                take(end)
            }
        }
        return pieces
    }
}
