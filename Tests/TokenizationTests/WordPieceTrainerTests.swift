import Foundation
import Testing
import Tokenization

@Suite("WordPieceTrainer")
struct WordPieceTrainerTests {
    /// A small mixed corpus in which a few words are much more frequent than the rest.
    static let corpus: [String] = {
        let lines = [
            "The quick brown fox jumps over the lazy dog.",
            "the dog and the fox are friends",
            "a quick brown dog runs to the river",
            "我爱北京天安门，北京是中国的首都。",
            "Tokenization turns text into tokens; tokens become ids!",
            "the brown river flows past the quick fox",
        ]
        return (0..<8).flatMap { _ in lines } + ["a zyxwvut appears once"]
    }()

    static func train(_ trainer: WordPieceTrainer, _ corpus: [String] = corpus) throws -> BertTokenizer {
        try BertTokenizer(vocabulary: trainer.train(corpus))
    }

    @Test("special tokens come first; frequent words become single tokens")
    func frequentWords() throws {
        let vocabulary = try WordPieceTrainer(vocabularySize: 150).train(Self.corpus)
        #expect(Array(vocabulary.tokens.prefix(5)) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        #expect(vocabulary.count <= 150)
        for word in ["the", "quick", "brown", "fox", "dog", "tokens"] {
            #expect(vocabulary.contains(word), "\(word) should be one token")
        }
        let tokenizer = try BertTokenizer(vocabulary: vocabulary)
        #expect(tokenizer.tokenize("The quick brown fox") == ["the", "quick", "brown", "fox"])
        // Characters are there alone and, where a word can continue with them, with ##; CJK ideographs and
        // punctuation are always split off, so they never need a ## form.
        #expect(vocabulary.contains("z") && vocabulary.contains("##z"))
        #expect(vocabulary.contains("京") && !vocabulary.contains("##京"))
        #expect(vocabulary.contains("，") && !vocabulary.contains("##，"))
    }

    @Test("encoding with the trained vocabulary round-trips the corpus")
    func roundTrip() throws {
        let tokenizer = try Self.train(WordPieceTrainer(vocabularySize: 120))
        for line in Set(Self.corpus) {
            let ids = tokenizer.encode(line)
            #expect(!ids.contains(tokenizer.unknownID), "\(line)")
            #expect(tokenizer.encode(tokenizer.decode(ids)) == ids, "\(line)")
        }
        #expect(tokenizer.decode(tokenizer.encode("the quick brown fox")) == "the quick brown fox")
        #expect(tokenizer.decode(tokenizer.encode("我爱北京天安门，北京是中国的首都。")) == "我爱北京天安门，北京是中国的首都。")
        // Unseen words of known characters still encode, piece by piece.
        #expect(tokenizer.decode(tokenizer.encode("brownish foxes")) == "brownish foxes")
    }

    @Test("training is deterministic and independent of corpus order")
    func deterministic() throws {
        let trainer = WordPieceTrainer(vocabularySize: 130)
        let first = try trainer.train(Self.corpus)
        let second = try trainer.train(Self.corpus)
        let shuffled = try trainer.train(Self.corpus.reversed())
        #expect(first == second)
        #expect(first == shuffled)
        let likelihood = WordPieceTrainer(vocabularySize: 130, scoring: .likelihood)
        #expect(try likelihood.train(Self.corpus) == likelihood.train(Self.corpus.reversed()))
    }

    @Test("minimum frequency, vocabulary size and alphabet limits")
    func limits() throws {
        let trainer = WordPieceTrainer(vocabularySize: 10_000, minimumFrequency: 2)
        let vocabulary = try trainer.train(Self.corpus)
        #expect(!vocabulary.contains("zyxwvut"), "a word seen once is not merged at minimum frequency 2")
        #expect(vocabulary.count < 10_000, "merging stops when no pair is frequent enough")
        let all = try WordPieceTrainer(vocabularySize: 10_000, minimumFrequency: 1).train(Self.corpus)
        #expect(all.contains("zyxwvut"))

        // A size below the alphabet's keeps the special tokens and the whole alphabet, and merges nothing.
        let tiny = try WordPieceTrainer(vocabularySize: 1).train(Self.corpus)
        #expect(
            tiny.tokens.dropFirst(5).allSatisfy {
                $0.replacingOccurrences(of: "##", with: "").unicodeScalars.count == 1
            })
        #expect(tiny.contains("t") && tiny.contains("##h") && !tiny.contains("th"))

        let limited = try WordPieceTrainer(vocabularySize: 100, limitAlphabet: 12).train(Self.corpus)
        let letters = limited.tokens.dropFirst(5).filter { $0.unicodeScalars.count == 1 }
        #expect(letters.count == 12)
        #expect(limited.contains("e") && limited.contains("t"), "the most frequent characters are kept")
        let tokenizer = try BertTokenizer(vocabulary: limited)
        #expect(tokenizer.tokenize("zyx") == ["[UNK]"])

        let withAlphabet = try WordPieceTrainer(
            vocabularySize: 100, initialAlphabet: ["é", "ü"],
            configuration:
                BertTokenizerConfiguration(stripAccents: false)
        ).train(Self.corpus)
        #expect(withAlphabet.contains("é") && withAlphabet.contains("##ü"))
    }

    @Test("likelihood scoring builds a usable vocabulary")
    func likelihoodScoring() throws {
        let vocabulary = try WordPieceTrainer(vocabularySize: 150, scoring: .likelihood).train(Self.corpus)
        #expect(vocabulary.count == 150)
        #expect(vocabulary.tokens.contains { $0.unicodeScalars.count > 3 && !$0.hasPrefix("[") })
        let tokenizer = try BertTokenizer(vocabulary: vocabulary)
        #expect(tokenizer.decode(tokenizer.encode("the quick brown fox")) == "the quick brown fox")
    }

    @Test("the trained vocabulary writes to vocab.txt and loads back; training from files works")
    func files() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpusFile = directory.appendingPathComponent("corpus.txt")
        try Self.corpus.joined(separator: "\n").write(to: corpusFile, atomically: true, encoding: .utf8)
        let trainer = WordPieceTrainer(vocabularySize: 120)
        let vocabulary = try trainer.train(files: [corpusFile])
        #expect(vocabulary == (try trainer.train(Self.corpus)))
        let vocabularyFile = directory.appendingPathComponent("vocab.txt")
        try vocabulary.write(to: vocabularyFile)
        let tokenizer = try BertTokenizer(vocabularyFile: vocabularyFile)
        #expect(tokenizer.vocabulary == vocabulary)
        #expect(tokenizer.tokenize("the dog") == ["the", "dog"])
    }
}
