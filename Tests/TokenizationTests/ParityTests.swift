import Foundation
import Testing
import Tokenization

// Parity with Chinese-CLIP's reference BERT tokenizer (cn_clip/clip/bert_tokenizer.py) on the 10,000 THUCNews
// headlines and a set of edge-case strings. The data is downloaded by scripts/fetch-test-data.sh, never committed.
// Without it these tests are skipped — unless BRIVL_REQUIRE_TEST_DATA=1 (CI, after fetching), where they fail
// and say how to get the data.

#if DEBUG
    private let isOptimizedBuild = false
#else
    private let isOptimizedBuild = true
#endif

@Suite("Parity with the reference tokenizer")
struct ParityTests {
    @Test(
        "word-piece ids and 52-token model inputs equal the reference's on every headline and edge case",
        .enabled(
            if: TestData.isAvailable || TestData.isRequired,
            "needs the data of scripts/fetch-test-data.sh (BRIVL_REQUIRE_TEST_DATA=1 turns its absence into a failure)")
    )
    func parity() throws {
        try #require(TestData.isAvailable, TestData.missingMessage)
        let tokenizer = try TestData.chineseCLIPTokenizer()
        #expect(tokenizer.vocabulary.count == 21_128)
        let references = try TestData.references()
        let headlines = references.filter { $0.source == "thucnews" }
        #expect(headlines.count == 10_000)
        #expect(references.count > headlines.count, "the edge cases are there too")

        var firstMismatch: String? = nil
        var mismatches = 0
        var pieces = 0
        for reference in references {
            let ids = tokenizer.encode(reference.text)
            let model = tokenizer.encode(reference.text, maxLength: 52)
            pieces += ids.count
            let expectedMask = reference.ids52.map { $0 == 0 ? 0 : 1 }
            guard ids == reference.ids, model.ids == reference.ids52, model.attentionMask == expectedMask else {
                mismatches += 1
                if firstMismatch == nil {
                    let pair = ids == reference.ids ? (model.ids, reference.ids52) : (ids, reference.ids)
                    firstMismatch = """
                        \(reference.source) #\(reference.index): \(reference.text.debugDescription)
                          swift:     \(pair.0) \(tokenizer.tokens(for: pair.0))
                          reference: \(pair.1) \(tokenizer.tokens(for: pair.1))
                        """
                }
                continue
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(references.count) texts differ; first:\n\(firstMismatch ?? "")")
        #expect(pieces > 150_000)

        // The batch path gives the same rows.
        let batch = tokenizer.encodeBatch(headlines.map(\.text), maxLength: 52)
        #expect(batch.shape == [10_000, 52])
        let batchMismatch = headlines.indices.first { Array(batch.ids(row: $0)) != headlines[$0].ids52.map(Int64.init) }
        #expect(batchMismatch == nil, "batch row \(batchMismatch ?? -1) differs from the reference")
    }

    @Test(
        "tokens per second on the headlines (reported, not asserted)",
        .enabled(if: TestData.isAvailable, "needs the data of scripts/fetch-test-data.sh"),
        .enabled(if: isOptimizedBuild, "timed in release builds only"))
    func throughput() throws {
        let tokenizer = try TestData.chineseCLIPTokenizer()
        let texts = try TestData.references().filter { $0.source == "thucnews" }.map(\.text)
        let characters = texts.reduce(0) { $0 + $1.count }
        let clock = ContinuousClock()
        var tokens = 0
        var rounds = 0
        let start = clock.now
        repeat {
            for text in texts { tokens += tokenizer.encode(text).count }
            rounds += 1
        } while clock.now - start < .milliseconds(1000)
        let seconds = Self.seconds(clock.now - start)

        var batchRows = 0
        let batchStart = clock.now
        repeat {
            for offset in stride(from: 0, to: texts.count, by: 256) {
                batchRows +=
                    tokenizer.encodeBatch(Array(texts[offset..<min(offset + 256, texts.count)]), maxLength: 52)
                    .batchSize
            }
        } while clock.now - batchStart < .milliseconds(500)
        let batchSeconds = Self.seconds(clock.now - batchStart)

        let report = String(
            format:
                "tokenizer throughput: %.2fM word pieces/s, %.2fM characters/s, %.0f headlines/s (%d rounds of %d); "
                + "encodeBatch(256 × 52): %.0f rows/s",
            Double(tokens) / seconds / 1e6, Double(characters * rounds) / seconds / 1e6,
            Double(texts.count * rounds) / seconds, rounds, texts.count, Double(batchRows) / batchSeconds)
        print(report)
        #expect(tokens > 0)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
