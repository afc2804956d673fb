import Foundation

/// Why a vocabulary could not be read or built.
public enum VocabularyError: Error, Equatable, Sendable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadableFile(path: String, reason: String)
    case invalidUTF8(path: String)
    /// The file or token list holds no token at all.
    case empty(source: String)
    /// An empty line inside the file (lines are 1-based).
    case emptyToken(line: Int)
    /// The same token on two lines (1-based); ids would be ambiguous.
    case duplicateToken(String, firstLine: Int, line: Int)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "vocabulary file not found: \(path)"
        case .unreadableFile(let path, let reason): return "cannot read vocabulary file \(path): \(reason)"
        case .invalidUTF8(let path): return "vocabulary file \(path) is not valid UTF-8"
        case .empty(let source): return "vocabulary \(source) holds no token"
        case .emptyToken(let line): return "vocabulary line \(line) is empty"
        case .duplicateToken(let token, let firstLine, let line):
            return "vocabulary token \(token.debugDescription) appears on line \(firstLine) and again on line \(line)"
        }
    }
}

/// A WordPiece vocabulary: tokens and their ids, as in a Hugging Face / Google BERT `vocab.txt` — one token per line,
/// the id of a token being its 0-based line number.
///
/// Tokens are compared by their exact Unicode scalars, not by Swift's canonical equivalence, so that e.g. the
/// compatibility ideograph U+F900 and the unified ideograph U+8C48 stay distinct entries as in the file.
public struct Vocabulary: Sendable, Equatable {
    /// Tokens by id.
    public let tokens: [String]
    private let idsByToken: [ExactString: Int]
    /// The token that stands for unknown words, and its id when the vocabulary holds it.
    public let unknownToken: String
    public let unknownID: Int?

    /// A vocabulary of `tokens` in id order.
    /// - Throws: `VocabularyError.empty`, `.emptyToken` or `.duplicateToken`.
    public init(tokens: [String], unknownToken: String = "[UNK]") throws {
        guard !tokens.isEmpty else { throw VocabularyError.empty(source: "token list") }
        var ids: [ExactString: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            guard !token.isEmpty else { throw VocabularyError.emptyToken(line: id + 1) }
            if let first = ids.updateValue(id, forKey: ExactString(token)) {
                throw VocabularyError.duplicateToken(token, firstLine: first + 1, line: id + 1)
            }
        }
        self.tokens = tokens
        self.idsByToken = ids
        self.unknownToken = unknownToken
        self.unknownID = ids[ExactString(unknownToken)]
    }

    /// Reads a `vocab.txt`: UTF-8, one token per line (LF or CRLF; a final newline is optional; a leading byte-order
    /// mark is ignored). Other whitespace belongs to the token.
    public init(contentsOf url: URL, unknownToken: String = "[UNK]") throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw VocabularyError.fileNotFound(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw VocabularyError.unreadableFile(path: path, reason: "\(error.localizedDescription)")
        }
        let tokens = try Self.parseLines(data, path: path)
        guard !tokens.isEmpty else { throw VocabularyError.empty(source: path) }
        try self.init(tokens: tokens, unknownToken: unknownToken)
    }

    public init(contentsOfFile path: String, unknownToken: String = "[UNK]") throws {
        try self.init(contentsOf: URL(fileURLWithPath: path), unknownToken: unknownToken)
    }

    private static func parseLines(_ data: Data, path: String) throws -> [String] {
        // Validate once; lines then split at LF bytes, which never occur inside a multi-byte sequence.
        guard String(data: data, encoding: .utf8) != nil else { throw VocabularyError.invalidUTF8(path: path) }
        var tokens: [String] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                var tokenEnd = end
                if tokenEnd > start, bytes[tokenEnd - 1] == 0x0D { tokenEnd -= 1 }
                tokens.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<tokenEnd]), as: UTF8.self))
                start = end + 1
            }
        }
        return tokens
    }

    /// The number of tokens.
    public var count: Int { tokens.count }

    /// The id of `token` (exact match), or nil.
    public func id(for token: String) -> Int? { idsByToken[ExactString(token)] }

    /// The id of `token`, or the unknown token's id when the vocabulary lacks it (nil if it lacks both).
    public func idOrUnknown(for token: String) -> Int? { id(for: token) ?? unknownID }

    /// The token of `id`, or nil when `id` is out of range.
    public func token(for id: Int) -> String? { tokens.indices.contains(id) ? tokens[id] : nil }

    public func contains(_ token: String) -> Bool { id(for: token) != nil }

    public subscript(token: String) -> Int? { id(for: token) }
    public subscript(id: Int) -> String? { token(for: id) }

    /// The `vocab.txt` form: each token followed by a newline.
    public var fileContents: String { tokens.map { $0 + "\n" }.joined() }

    /// Writes the `vocab.txt` form atomically.
    public func write(to url: URL) throws {
        try Data(fileContents.utf8).write(to: url, options: .atomic)
    }

    public static func == (lhs: Vocabulary, rhs: Vocabulary) -> Bool {
        lhs.unknownToken == rhs.unknownToken && lhs.tokens.count == rhs.tokens.count
            && zip(lhs.tokens, rhs.tokens).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}

/// A string hashed and compared by its UTF-8 bytes rather than by canonical equivalence.
struct ExactString: Hashable, Sendable {
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.string.utf8.elementsEqual(rhs.string.utf8) }

    func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
