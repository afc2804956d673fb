import Foundation
import Testing

@testable import Tokenization

/// The data of Tests/Reference/make_clip_tokenizer_references.py (OpenCLIP 2.24's own SimpleTokenizer with ftfy 6.3.1):
/// `<test data>/clip-tokenizer`.
private enum CLIPReference {
    static var directory: URL { TestData.directory.appendingPathComponent("clip-tokenizer", isDirectory: true) }
    static var merges: URL { directory.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz") }
    static var references: URL { directory.appendingPathComponent("references.jsonl") }
    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: merges.path) && FileManager.default.fileExists(atPath: references.path)
    }

    struct Line: Decodable {
        let source: String
        let index: Int
        let text: String
        let ids: [Int]
        let ids77: [Int]
        let mojibake: Bool
    }

    static func lines() throws -> [Line] {
        let data = try Data(contentsOf: references)
        let decoder = JSONDecoder()
        return try data.split(separator: 0x0A).map { try decoder.decode(Line.self, from: Data($0)) }
    }

    static func tokenizer() throws -> CLIPTokenizer { try CLIPTokenizer(contentsOfFile: merges.path) }
}

private let needsCLIPReference = ConditionTrait.enabled(
    if: CLIPReference.isAvailable || TestData.isRequired,
    "needs the OpenCLIP tokenizer references of scripts/fetch-test-data.sh (python3 with regex)")

@Suite("CLIP's BPE tokenizer")
struct CLIPTokenizerTests {
    @Test("ids and 77-token rows equal OpenCLIP's on 10,000 headlines and every edge case", needsCLIPReference)
    func parity() throws {
        let tokenizer = try CLIPReference.tokenizer()
        #expect(tokenizer.vocabularySize == 49_408 && tokenizer.startID == 49_406 && tokenizer.endID == 49_407)
        let lines = try CLIPReference.lines()
        #expect(lines.filter { $0.source == "thucnews" }.count == 10_000)
        var mismatches: [String] = []
        var pieces = 0
        for line in lines {
            let ids = tokenizer.encode(line.text)
            let row = tokenizer.encodeBatch([line.text])
            pieces += ids.count
            let mask = line.ids77.enumerated().map { $0.offset < row.lengths[0] ? Int64(1) : 0 }
            if ids != line.ids || row.ids != line.ids77.map(Int64.init) || row.attentionMask != mask {
                mismatches.append(
                    "\(line.source) #\(line.index)\(line.mojibake ? " (ftfy: mojibake)" : ""): \(line.text.debugDescription)\n"
                        + "  swift:     \(ids)\n  reference: \(line.ids)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(lines.count) differ:\n\(mismatches.prefix(5).joined(separator: "\n"))")
        #expect(pieces > 200_000)
    }

    @Test("rows are start, pieces, end; a long text keeps 77 ids ending with end; padding to the longest", needsCLIPReference)
    func rows() throws {
        let tokenizer = try CLIPReference.tokenizer()
        let short = tokenizer.encodeRow("a photo of a cat")
        #expect(short.ids.first == tokenizer.startID && short.ids.last == tokenizer.endID && !short.truncated)
        #expect(short.ids.count == 7)
        #expect(tokenizer.tokens(for: short.ids) == ["<start_of_text>", "a", "photo", "of", "a", "cat", "<end_of_text>"])
        #expect(tokenizer.tokens(for: [tokenizer.vocabularySize]) == ["<unknown 49408>"])
        let long = tokenizer.encodeRow(String(repeating: "cat ", count: 100))
        #expect(long.ids.count == 77 && long.ids.last == tokenizer.endID && long.truncated)
        let batch = tokenizer.encodeBatch(["a photo of a cat", "dog"], padding: .longest)
        #expect(batch.shape == [2, 7] && batch.lengths == [7, 3] && batch.truncatedCount == 0)
        #expect(Array(batch.ids(row: 1).suffix(4)) == [0, 0, 0, 0])
        #expect(Array(batch.attentionMask(row: 1)) == [1, 1, 1, 0, 0, 0, 0])
    }

    @Test("cleaning: entities, widths, quotes, ligatures, controls, whitespace and case, as ftfy + OpenCLIP do")
    func cleaning() {
        #expect(CLIPTextCleaning.clean("  Tom &amp;amp; Jerry\t\n ") == "tom & jerry")
        #expect(CLIPTextCleaning.clean("ＨＥＬＬＯ　ｗｏｒｌｄ！") == "hello world!")
        #expect(CLIPTextCleaning.clean("\u{201C}ﬁne\u{201D} it\u{2019}s") == "\"fine\" it's")
        #expect(CLIPTextCleaning.clean("a\u{1B}[31mred\u{1B}[0m\u{0}b\u{FEFF}") == "aredb")
        #expect(CLIPTextCleaning.clean("P&EACUTE;REZ &#x41;&#66;") == "pérez ab")
        // ftfy unescapes until nothing changes, but not on a line holding "<": there only the two html.unescape
        // passes after it run (values from OpenCLIP's _clean_lower).
        #expect(CLIPTextCleaning.clean("<b>&amp;amp;amp;</b>") == "<b>&amp;</b>")
        #expect(CLIPTextCleaning.clean("&amp;amp;amp;") == "&")
        #expect(CLIPTextCleaning.clean("ΣΑΣ aΣ Σ") == "σας aς σ")
    }

    @Test("merges files that are not CLIP's are refused with the line at fault")
    func badMerges() throws {
        #expect(throws: TokenizerError.self) { try CLIPTokenizer(merges: "#version: 0.2\n") }
        do {
            _ = try CLIPTokenizer(merges: "#version: 0.2\nt h\nthree parts here\n")
            Issue.record("a three-symbol merge was accepted")
        } catch let error as TokenizerError {
            #expect("\(error)".contains("line 3"), "\(error)")
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-merges.txt.gz").path
        #expect(throws: VocabularyError.fileNotFound(path: missing)) { try CLIPTokenizer(contentsOfFile: missing) }
    }
}
