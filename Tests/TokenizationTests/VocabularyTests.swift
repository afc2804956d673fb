import Foundation
import Testing
import Tokenization

@Suite("Vocabulary")
struct VocabularyTests {
    @Test("ids are line numbers; lookups work both ways")
    func lookups() throws {
        let vocabulary = try Vocabulary(tokens: ["[PAD]", "[UNK]", "hello", "##lo"])
        #expect(vocabulary.count == 4)
        #expect(vocabulary.id(for: "hello") == 2)
        #expect(vocabulary["##lo"] == 3)
        #expect(vocabulary.token(for: 1) == "[UNK]")
        #expect(vocabulary[0] == "[PAD]")
        #expect(vocabulary.token(for: 4) == nil)
        #expect(vocabulary.token(for: -1) == nil)
        #expect(vocabulary.id(for: "missing") == nil)
        #expect(vocabulary.contains("hello"))
        #expect(!vocabulary.contains("Hello"))
    }

    @Test("unknown tokens map to [UNK] when asked")
    func unknownHandling() throws {
        let vocabulary = try Vocabulary(tokens: ["[PAD]", "[UNK]", "a"])
        #expect(vocabulary.unknownID == 1)
        #expect(vocabulary.idOrUnknown(for: "zzz") == 1)
        #expect(vocabulary.idOrUnknown(for: "a") == 2)
        let custom = try Vocabulary(tokens: ["<unk>", "a"], unknownToken: "<unk>")
        #expect(custom.idOrUnknown(for: "b") == 0)
        let without = try Vocabulary(tokens: ["a", "b"])
        #expect(without.unknownID == nil)
        #expect(without.idOrUnknown(for: "c") == nil)
    }

    @Test("tokens are matched by exact scalars, not canonical equivalence")
    func exactMatching() throws {
        // U+F900 is canonically equivalent to U+8C48, and "é" to "e" + U+0301: Swift's == would merge them.
        let vocabulary = try Vocabulary(tokens: ["\u{8C48}", "\u{F900}", "\u{E9}", "e\u{301}"])
        #expect(vocabulary.id(for: "\u{F900}") == 1)
        #expect(vocabulary.id(for: "\u{8C48}") == 0)
        #expect(vocabulary.id(for: "e\u{301}") == 3)
        #expect(vocabulary.id(for: "\u{E9}") == 2)
    }

    @Test("reads vocab.txt: LF or CRLF, optional final newline, BOM, whitespace kept inside tokens")
    func readsFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        try Data("\u{FEFF}[PAD]\r\n[UNK]\nhello\n\u{2028}\n##x".utf8).write(to: url)
        let vocabulary = try Vocabulary(contentsOf: url)
        #expect(vocabulary.tokens == ["[PAD]", "[UNK]", "hello", "\u{2028}", "##x"])
        #expect(vocabulary.id(for: "##x") == 4)
        let byPath = try Vocabulary(contentsOfFile: url.path)
        #expect(byPath == vocabulary)
    }

    @Test("writes vocab.txt that reads back the same")
    func writeRoundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        let vocabulary = try smallVocabulary()
        try vocabulary.write(to: url)
        #expect(try Vocabulary(contentsOf: url) == vocabulary)
        #expect(try String(contentsOf: url, encoding: .utf8).hasSuffix("\u{8C48}\n"))
    }

    @Test("a missing file is a clear error")
    func missingFile() throws {
        let path = "/nonexistent/folder/vocab.txt"
        #expect(throws: VocabularyError.fileNotFound(path: path)) { try Vocabulary(contentsOfFile: path) }
        #expect(VocabularyError.fileNotFound(path: path).description == "vocabulary file not found: \(path)")
    }

    @Test("duplicate tokens are an error naming both lines")
    func duplicates() throws {
        #expect(throws: VocabularyError.duplicateToken("b", firstLine: 2, line: 4)) {
            try Vocabulary(tokens: ["a", "b", "c", "b"])
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        try Data("[PAD]\nx\ny\nx\n".utf8).write(to: url)
        #expect(throws: VocabularyError.duplicateToken("x", firstLine: 2, line: 4)) { try Vocabulary(contentsOf: url) }
        let message = VocabularyError.duplicateToken("x", firstLine: 2, line: 4).description
        #expect(message.contains("line 2") && message.contains("line 4"))
    }

    @Test("empty lines, empty files and invalid UTF-8 are errors")
    func malformedFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.txt")
        try Data("a\n\nb\n".utf8).write(to: url)
        #expect(throws: VocabularyError.emptyToken(line: 2)) { try Vocabulary(contentsOf: url) }
        try Data().write(to: url)
        #expect(throws: VocabularyError.empty(source: url.path)) { try Vocabulary(contentsOf: url) }
        try Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: url)
        #expect(throws: VocabularyError.invalidUTF8(path: url.path)) { try Vocabulary(contentsOf: url) }
        #expect(throws: VocabularyError.empty(source: "token list")) { try Vocabulary(tokens: []) }
    }
}
