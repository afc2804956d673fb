import Foundation
import Testing
import Tokenization

/// Words as scalar values: Swift's String == treats canonically equivalent strings as equal, which would hide
/// normalisation mistakes (e.g. U+F900 versus U+8C48).
private func scalars(_ words: [String]) -> [[UInt32]] { words.map { $0.unicodeScalars.map(\.value) } }

@Suite("Basic tokenisation")
struct BasicTokenizationTests {
    let tokenizer = BasicTokenizer()

    @Test("CJK ideographs become words of their own")
    func chineseCharacters() {
        #expect(tokenizer.tokenize("我爱北京天安门") == ["我", "爱", "北", "京", "天", "安", "门"])
        #expect(tokenizer.tokenize("  中国 人 ") == ["中", "国", "人"])
        // Extension B and extension A ideographs too.
        #expect(tokenizer.tokenize("a\u{20000}b\u{3400}") == ["a", "\u{20000}", "b", "\u{3400}"])
        // Kana are not in BERT's ranges: they stay in words (and, like accents, voicing marks go: が → か).
        #expect(scalars(tokenizer.tokenize("ひらがな カタカナ")) == scalars(["ひらかな", "カタカナ"]))
        let untouched = BasicTokenizer(configuration: BertTokenizerConfiguration(tokenizeChineseCharacters: false))
        #expect(untouched.tokenize("我爱 北京") == ["我爱", "北京"])
    }

    @Test("mixed Chinese, English and digits")
    func mixedText() {
        #expect(
            tokenizer.tokenize("我有3个apple和iPhone14，真的！")
                == ["我", "有", "3", "个", "apple", "和", "iphone14", "，", "真", "的", "！"])
        #expect(
            tokenizer.tokenize("恒生AH溢指收平 A股对H股折价1.95%") == [
                "恒", "生", "ah", "溢", "指", "收", "平", "a", "股", "对", "h", "股", "折", "价", "1", ".", "95", "%",
            ])
    }

    @Test("ASCII and Unicode punctuation, full-width included, splits off")
    func punctuation() {
        #expect(tokenizer.tokenize("Hello, world!") == ["hello", ",", "world", "!"])
        #expect(tokenizer.tokenize("你好，世界。！？") == ["你", "好", "，", "世", "界", "。", "！", "？"])
        #expect(
            tokenizer.tokenize("$100.50 e-mail ^_^ `x`") == [
                "$", "100", ".", "50", "e", "-", "mail", "^", "_", "^", "`", "x", "`",
            ])
        #expect(tokenizer.tokenize("«a»—b…c·d") == ["«", "a", "»", "—", "b", "…", "c", "·", "d"])
        #expect(tokenizer.tokenize("（测试）“引号”《书》") == ["（", "测", "试", "）", "“", "引", "号", "”", "《", "书", "》"])
        // Symbols that are not punctuation (Sc, Sm, So) stay inside words.
        #expect(tokenizer.tokenize("5£ a+b=c ©x") == ["5£", "a", "+", "b", "=", "c", "©x"])
    }

    @Test("lower-casing strips accents by default; cased settings keep them")
    func accents() {
        #expect(
            tokenizer.tokenize("Héllo Café NAÏVE résumé Ångström") == ["hello", "cafe", "naive", "resume", "angstrom"])
        #expect(tokenizer.tokenize("Tiếng Việt") == ["tieng", "viet"])
        let cased = BasicTokenizer(configuration: BertTokenizerConfiguration(lowercase: false))
        #expect(scalars(cased.tokenize("Héllo Café")) == scalars(["H\u{E9}llo", "Caf\u{E9}"]))
        let casedStripped = BasicTokenizer(
            configuration: BertTokenizerConfiguration(lowercase: false, stripAccents: true))
        #expect(casedStripped.tokenize("Héllo Café") == ["Hello", "Cafe"])
        let lowerOnly = BasicTokenizer(configuration: BertTokenizerConfiguration(lowercase: true, stripAccents: false))
        #expect(scalars(lowerOnly.tokenize("HÉLLO")) == scalars(["h\u{E9}llo"]))
        // Lone combining marks vanish; decomposed input behaves like precomposed.
        #expect(tokenizer.tokenize("e\u{301}t\u{E9} \u{301} x") == ["ete", "x"])
    }

    @Test("Unicode lower-casing: special casing and the Greek final sigma")
    func specialCasing() {
        #expect(tokenizer.tokenize("ΟΔΥΣΣΕΥΣ ΣΑΣ Σ ΑΣ.") == ["οδυσσευς", "σας", "σ", "ας", "."])
        let lowerOnly = BasicTokenizer(configuration: BertTokenizerConfiguration(lowercase: true, stripAccents: false))
        #expect(scalars(lowerOnly.tokenize("İ")) == [[0x69, 0x307]])
        #expect(tokenizer.tokenize("İstanbul ẞ") == ["istanbul", "ß"])
        #expect(tokenizer.tokenize("ＡＢＣ") == ["ａｂｃ"])
    }

    @Test("canonical decomposition: Hangul, compatibility ideographs, Angstrom sign")
    func decomposition() {
        #expect(scalars(tokenizer.tokenize("한")) == [[0x1112, 0x1161, 0x11AB]])
        #expect(scalars(tokenizer.tokenize("\u{F900}\u{2F800}")) == [[0x8C48], [0x4E3D]])
        #expect(scalars(tokenizer.tokenize("\u{212B}")) == [[0x61]])
        // U+1FEF (a symbol) decomposes to "`", which is punctuation.
        #expect(tokenizer.tokenize("a\u{1FEF}b") == ["a", "`", "b"])
    }

    @Test("cleaning drops NUL, U+FFFD and control characters; whitespace of every kind separates")
    func cleaning() {
        #expect(tokenizer.tokenize("a\u{0}b\u{7}c\u{200B}d\u{FFFD}e\u{AD}f g") == ["abcdef", "g"])
        #expect(
            tokenizer.tokenize("a\tb\nc\r\nd\u{3000}e\u{A0}f\u{2028}g\u{2029}h\u{2003}i") == [
                "a", "b", "c", "d", "e", "f", "g", "h", "i",
            ])
        #expect(tokenizer.tokenize("\u{0}\u{FFFD} \t\n") == [])
        #expect(tokenizer.tokenize("") == [])
    }
}

@Suite("BertTokenizer")
struct BertTokenizerTests {
    @Test("WordPiece: longest match first with ## continuations")
    func continuations() throws {
        let tokenizer = try smallTokenizer()
        #expect(tokenizer.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(tokenizer.tokenize("Tokenization tokens") == ["token", "##ization", "token", "##s"])
        #expect(tokenizer.tokenize("iPhone14") == ["iphone", "##1", "##4"])
        #expect(tokenizer.tokenize("hello world") == ["hello", "world"])
        let ids = tokenizer.encode("unaffable")
        #expect(ids == ["un", "##aff", "##able"].map { tokenizer.vocabulary.id(for: $0)! })
    }

    @Test("unknown characters, unmatched words and over-long words become one [UNK]")
    func unknownWords() throws {
        let tokenizer = try smallTokenizer()
        #expect(tokenizer.tokenize("hello 😀") == ["hello", "[UNK]"])
        #expect(tokenizer.tokenize("猫和狗") == ["[UNK]", "和", "[UNK]"])
        // One unmatched position makes the whole word unknown, not just its tail.
        #expect(tokenizer.tokenize("unaffable£ x") == ["[UNK]", "x"])
        let long = String(repeating: "a", count: 101)
        #expect(tokenizer.tokenize(long) == ["[UNK]"])
        #expect(tokenizer.tokenize(String(repeating: "a", count: 100)).count == 100)
        let short = try smallTokenizer(BertTokenizerConfiguration(maxInputCharactersPerWord: 5))
        #expect(short.tokenize("hello helloo") == ["hello", "[UNK]"])
        #expect(short.encode("helloo") == [short.unknownID])
    }

    @Test("compatibility ideographs find their unified entry")
    func compatibilityIdeographs() throws {
        let tokenizer = try smallTokenizer()
        #expect(tokenizer.encode("\u{F900}") == [tokenizer.vocabulary.id(for: "\u{8C48}")!])
    }

    @Test("encode with maxLength: [CLS] … [SEP], padding, attention mask")
    func modelInput() throws {
        let tokenizer = try smallTokenizer()
        let (cls, sep, pad) = (tokenizer.classificationID, tokenizer.separatorID, tokenizer.paddingID)
        let hello = tokenizer.vocabulary.id(for: "hello")!
        let world = tokenizer.vocabulary.id(for: "world")!
        let encoding = tokenizer.encode("Hello world", maxLength: 6)
        #expect(encoding.ids == [cls, hello, world, sep, pad, pad])
        #expect(encoding.attentionMask == [1, 1, 1, 1, 0, 0])
        #expect(encoding.length == 4)
        #expect(!encoding.isTruncated)
        #expect(tokenizer.encode("", maxLength: 4).ids == [cls, sep, pad, pad])
        #expect(tokenizer.encode("hello", maxLength: 10, pad: false).ids == [cls, hello, sep])
        #expect(tokenizer.encode("hello", maxLength: 10, pad: false).attentionMask == [1, 1, 1])
    }

    @Test("truncation keeps the first pieces, even inside a word")
    func truncation() throws {
        let tokenizer = try smallTokenizer()
        let cut = tokenizer.encode("我爱北京天安门", maxLength: 5)
        #expect(tokenizer.tokens(for: cut.ids) == ["[CLS]", "我", "爱", "北", "[SEP]"])
        #expect(cut.isTruncated)
        #expect(cut.attentionMask == [1, 1, 1, 1, 1])
        let exact = tokenizer.encode("我爱北", maxLength: 5)
        #expect(!exact.isTruncated)
        #expect(exact.ids == cut.ids)
        let inside = tokenizer.encode("unaffable", maxLength: 4)
        #expect(tokenizer.tokens(for: inside.ids) == ["[CLS]", "un", "##aff", "[SEP]"])
        #expect(inside.isTruncated)
        #expect(tokenizer.encode("x", maxLength: 2).ids == [tokenizer.classificationID, tokenizer.separatorID])
        // Without room for [CLS] and [SEP] the result is cut too, never a crash.
        #expect(tokenizer.encode("x", maxLength: 1).ids == [tokenizer.classificationID])
        #expect(tokenizer.encode("x", maxLength: 1).isTruncated)
        #expect(tokenizer.encode("x", maxLength: 0).ids.isEmpty)
        #expect(tokenizer.encodeBatch(["x", "y"], maxLength: 1).shape == [2, 1])
    }

    @Test("batches: flat row-major arrays and their shape")
    func batches() throws {
        let tokenizer = try smallTokenizer(BertTokenizerConfiguration(maxLength: 6))
        let texts = ["hello world", "我爱北京天安门", "", "unaffable"]
        let batch = tokenizer.encodeBatch(texts)
        #expect(batch.shape == [4, 6])
        #expect(batch.ids.count == 24)
        #expect(batch.attentionMask.count == 24)
        for (row, text) in texts.enumerated() {
            let single = tokenizer.encode(text, maxLength: 6)
            #expect(Array(batch.ids(row: row)) == single.ids.map(Int64.init))
            #expect(Array(batch.attentionMask(row: row)) == single.attentionMask.map(Int64.init))
            #expect(batch.lengths[row] == single.length)
        }
        #expect(batch.lengths == [4, 6, 2, 5])
        #expect(batch.truncatedCount == 1)

        let small = tokenizer.encodeBatch(texts, maxLength: 4, as: Int32.self)
        #expect(small.shape == [4, 4])
        #expect(Array(small.ids(row: 3)) == tokenizer.encode("unaffable", maxLength: 4).ids.map(Int32.init))
        #expect(small.truncatedCount == 2)

        let longest = tokenizer.encodeBatch(["hello", "我爱北"], maxLength: 50, padding: .longest)
        #expect(longest.shape == [2, 5])
        #expect(longest.attentionMask == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1])
        let capped = tokenizer.encodeBatch(["我爱北京天安门我爱北京天安门"], maxLength: 6, padding: .longest)
        #expect(capped.shape == [1, 6])

        let empty = tokenizer.encodeBatch([])
        #expect(empty.shape == [0, 6])
        #expect(empty.ids.isEmpty)
    }

    @Test("decode joins ## pieces, keeps CJK unspaced, drops structural specials")
    func decoding() throws {
        let tokenizer = try smallTokenizer()
        #expect(tokenizer.decode(tokenizer.encode("unaffable hello")) == "unaffable hello")
        #expect(tokenizer.decode(tokenizer.encode("我爱北京", maxLength: 10).ids) == "我爱北京")
        #expect(tokenizer.decode(tokenizer.encode("Hello, world!")) == "hello, world!")
        #expect(tokenizer.decode(tokenizer.encode("我有3个apple和iPhone14")) == "我有3个apple和iphone14")
        #expect(tokenizer.decode(tokenizer.encode("hello 😀")) == "hello [UNK]")
        let withSpecials = tokenizer.encode("hello", maxLength: 4).ids
        #expect(tokenizer.decode(withSpecials, skipSpecialTokens: false) == "[CLS] hello [SEP] [PAD]")
        #expect(tokenizer.decode(tokenizer.encode("hello, world!"), cleanUpSpaces: false) == "hello , world !")
        #expect(tokenizer.decode([]) == "")
        let batch = tokenizer.encodeBatch(["unaffable 我爱北京"], maxLength: 12)
        #expect(tokenizer.decode(batch.ids(row: 0)) == "unaffable我爱北京")
        #expect(tokenizer.decode([999_999]) == "[UNK]")
    }

    @Test("token and id conversions")
    func conversions() throws {
        let tokenizer = try smallTokenizer()
        #expect(
            tokenizer.ids(for: ["hello", "nope"]) == [tokenizer.vocabulary.id(for: "hello")!, tokenizer.unknownID])
        #expect(tokenizer.tokens(for: [0, 1, 2, 3, 4]) == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        #expect(tokenizer.basicTokenize("Hello, 世界") == ["hello", ",", "世", "界"])
        #expect(tokenizer.maskID == 4)
    }

    @Test("a vocabulary without a special token, or a bad configuration, is an error")
    func errors() throws {
        let vocabulary = try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
        #expect(throws: TokenizerError.missingSpecialToken("[MASK]")) { try BertTokenizer(vocabulary: vocabulary) }
        #expect(throws: TokenizerError.self) {
            try smallTokenizer(BertTokenizerConfiguration(maxInputCharactersPerWord: 0))
        }
        #expect(throws: TokenizerError.self) { try smallTokenizer(BertTokenizerConfiguration(maxLength: 1)) }
        #expect(throws: VocabularyError.fileNotFound(path: "/nonexistent/vocab.txt")) {
            try BertTokenizer(vocabularyFile: URL(fileURLWithPath: "/nonexistent/vocab.txt"))
        }
    }

    @Test("one tokenizer serves concurrent callers")
    func concurrentUse() async throws {
        let tokenizer = try smallTokenizer()
        let texts = (0..<64).map { "Hello 世界 unaffable \($0) ÉTÉ" }
        let expected = texts.map { tokenizer.encode($0) }
        let results = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (index, text) in texts.enumerated() { group.addTask { (index, tokenizer.encode(text)) } }
            var results = [[Int]](repeating: [], count: texts.count)
            for await (index, ids) in group { results[index] = ids }
            return results
        }
        #expect(results == expected)
    }
}
