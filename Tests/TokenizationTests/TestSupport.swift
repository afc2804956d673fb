import FileTestSupport
import Foundation
import Testing
import Tokenization

// Helpers shared by the Tokenization tests: a small hand-made vocabulary, temporary files, and the location of the
// parity data that scripts/fetch-test-data.sh downloads.

/// A small vocabulary for hand-written cases: the special tokens, ASCII and full-width punctuation, letters and digits
/// (alone and as continuations), a few words and word pieces, and a few CJK ideographs.
let smallVocabularyTokens: [String] = {
    var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".map(String.init)
    tokens += ["，", "。", "！", "？", "、", "（", "）", "“", "”", "《", "》"]
    let letters = "abcdefghijklmnopqrstuvwxyz0123456789".map(String.init)
    tokens += letters
    tokens += letters.map { "##" + $0 }
    tokens += [
        "hello", "world", "un", "##aff", "##able", "cafe", "naive", "resume", "apple", "iphone", "the", "quick",
        "brown", "fox", "token", "##ization", "##ing", "100", "50", "##12", "isto", "##ria",
    ]
    tokens += ["我", "爱", "北", "京", "天", "安", "门", "中", "国", "人", "你", "好", "世", "界", "有", "个", "和", "的", "\u{8C48}"]
    return tokens
}()

func smallVocabulary() throws -> Vocabulary { try Vocabulary(tokens: smallVocabularyTokens) }

func smallTokenizer(_ configuration: BertTokenizerConfiguration = BertTokenizerConfiguration()) throws
    -> BertTokenizer
{
    try BertTokenizer(vocabulary: smallVocabulary(), configuration: configuration)
}

/// A fresh temporary directory, removed by the caller with `FileManager.removeItem`.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "TokenizationTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Parity data

/// Where the parity data lives: `$BRIVL_TEST_DATA`, or `<package root>/.cache/test-data` when that is unset.
enum TestData {
    static var directory: URL { TestDataLocation.directory }

    static var vocabularyFile: URL { directory.appendingPathComponent("vocab.txt") }
    static var referencesFile: URL { directory.appendingPathComponent("tokenizer_references.jsonl") }

    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: vocabularyFile.path)
            && FileManager.default.fileExists(atPath: referencesFile.path)
    }

    static var isRequired: Bool { TestDataLocation.isRequired }

    static var missingMessage: Comment {
        Comment(
            rawValue: "tokenizer parity data not found in \(directory.path): run scripts/fetch-test-data.sh "
                + "(or point BRIVL_TEST_DATA at the folder it filled)")
    }

    /// One line of tokenizer_references.jsonl, as Tests/Reference/make_tokenizer_references.py writes it.
    struct Reference: Decodable, Sendable {
        let source: String
        let index: Int
        let text: String
        /// Every word-piece id, no special tokens, no truncation.
        let ids: [Int]
        /// cn_clip.clip.tokenize: [CLS] + 50 pieces + [SEP], zero-padded to 52.
        let ids52: [Int]
    }

    static func references() throws -> [Reference] {
        let data = try Data(contentsOf: referencesFile)
        let decoder = JSONDecoder()
        var references: [Reference] = []
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            if end > start { references.append(try decoder.decode(Reference.self, from: data[start..<end])) }
            start = end + 1
        }
        return references
    }

    /// The tokenizer under test, with Chinese-CLIP's settings and vocabulary.
    static func chineseCLIPTokenizer() throws -> BertTokenizer {
        try BertTokenizer(vocabularyFile: vocabularyFile, configuration: .chineseCLIP)
    }
}
