import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

@Suite("Cleaning: text rules")
struct CleanTextRuleTests {
    func cleaner(
        language: LanguagePolicy = .zh, sensitive: [String] = [], names: [String] = [],
        boilerplate: [String]? = nil
    ) throws -> TextCleaner {
        let lexicons = TextLexicons(
            sensitive: Lexicon(source: "test", entries: sensitive), names: Lexicon(source: "test", entries: names),
            boilerplate: boilerplate.map { Lexicon(source: "test", entries: $0) } ?? Lexicon.defaultBoilerplate)
        return TextCleaner(rules: try TextRules(configuration: .init(language: language), lexicons: lexicons))
    }

    @Test("sensitive words are masked one '*' per character, over the union of overlapping occurrences")
    func masking() throws {
        let rules = try cleaner(sensitive: ["傻瓜", "赌博网站", "甲乙", "乙丙丁", "spam"])
        let result = rules.clean("这是一个傻瓜的赌博网站")
        #expect(result.text == "这是一个**的****")
        #expect(result.maskedCharacters == 6)
        #expect(result.maskedOccurrences == 2)
        #expect(result.failure == nil)
        #expect(rules.clean("猫甲乙丙丁猫").text == "猫****猫")
        #expect(rules.clean("猫 SPAM here").text == "猫 **** here")
        #expect(rules.clean("猫 spammer").text == "猫 spammer")
        #expect(rules.clean("没有敏感词").changed == false)
    }

    @Test("person names become the placeholder (leftmost-longest), never across a mask")
    func names() throws {
        let rules = try cleaner(sensitive: ["小明"], names: ["王小明", "王小", "李华", "欧阳锋"])
        #expect(rules.clean("李华和欧阳锋在公园散步").text == "<人名>和<人名>在公园散步")
        #expect(rules.clean("李华和欧阳锋在公园散步").namesReplaced == 2)
        // Masking comes first: the sensitive word inside the name is masked, and the name no longer matches whole.
        #expect(rules.clean("王小明的照片").text == "王**的照片")
        let plain = try cleaner(names: ["王小明", "王小"])
        #expect(plain.clean("王小明的照片").text == "<人名>的照片")
    }

    @Test("boilerplate is removed with the brackets and separators it leaves behind")
    func boilerplate() throws {
        let rules = try cleaner()
        #expect(rules.clean("美丽的风景 展开全文").text == "美丽的风景")
        #expect(rules.clean("【查看原网页】一只猫在睡觉").text == "一只猫在睡觉")
        #expect(rules.clean("一只猫在睡觉，点击查看大图").text == "一只猫在睡觉")
        #expect(rules.clean("一只猫 | 展开全文 | 很可爱").boilerplateRemoved == 1)
        #expect(rules.clean("一只猫. Click to enlarge").text == "一只猫.")
        #expect(rules.clean("一只猫，click to enlarge").text == "一只猫")
        let onlyBoilerplate = rules.clean("展开全文")
        #expect(onlyBoilerplate.failure == .emptyAfterCleaning)
    }

    @Test("language policy: zh needs Chinese characters, en Latin letters, any nothing")
    func language() throws {
        #expect(try cleaner().clean("hello world").failure == .language)
        #expect(try cleaner().clean("a photo of 猫").failure == nil)
        #expect(try cleaner(language: .en).clean("一只猫").failure == .language)
        #expect(try cleaner(language: .en).clean("a cat").failure == nil)
        #expect(try cleaner(language: .any).clean("12345!").failure == nil)
        // Judged after boilerplate: Chinese boilerplate does not make an English caption Chinese.
        #expect(try cleaner().clean("a cat 展开全文").failure == .language)
        let strict = TextCleaner(
            rules: try TextRules(configuration: .init(minimumChineseCharacters: 3), lexicons: TextLexicons()))
        #expect(strict.clean("小猫 cat").failure == .language)
        #expect(strict.clean("小猫咪 cat").failure == nil)
    }

    @Test("empty captions and captions emptied by cleaning fail; whitespace is tidied")
    func emptiness() throws {
        let rules = try cleaner(sensitive: ["脏话"], names: ["张三丰"])
        #expect(rules.clean("").failure == .empty)
        #expect(rules.clean(" \n\t　").failure == .empty)
        #expect(rules.clean("张三丰").failure == .emptyAfterCleaning)
        #expect(rules.clean("脏话！").failure == .emptyAfterCleaning)
        #expect(rules.clean("张三丰 说 脏话").text == "<人名> 说 **")
        #expect(rules.clean("张三丰在练剑").text == "<人名>在练剑")
        #expect(rules.clean("  一只   猫 \n 在睡觉 ").text == "一只 猫 在睡觉")
    }

    @Test("dedup normalisation ignores case, width, whitespace and punctuation, not content")
    func normalisation() throws {
        let rules = try cleaner(language: .any)
        let base = rules.clean("一只猫。").normalizedHash
        #expect(rules.clean("一只 猫").normalizedHash == base)
        #expect(rules.clean("一只猫!!").normalizedHash == base)
        #expect(rules.clean("一只狗").normalizedHash != base)
        #expect(rules.clean("Cat").normalizedHash == rules.clean("ｃａｔ").normalizedHash)
    }

    @Test("the name lexicon builder keeps names and leaves ordinary nr entries out")
    func nameLexicon() throws {
        let dictionary = """
            韦小宝 9863 nr
            毛泽东 8994 nr
            欧阳锋 1511 nr
            司马相如 120 nr
            明白 10875 nr
            王 19704 nr
            杜鹃花 863 nr
            阿根廷 964 nr
            维生素 1933 nr
            钟祥市 776 nr
            黄蓉惊 2 nr
            大展宏图 1051 nr
            金碧辉煌 375 nr
            王小明 3 nr
            猫咪 50 n
            """
        let result = NameLexiconBuilder().build(dictionaryText: dictionary)
        #expect(result.names == ["司马相如", "欧阳锋", "毛泽东", "王小明", "韦小宝"])
        #expect(result.candidates == 14)
        #expect(result.excluded["length"] == 4)  // 明白, 王, 大展宏图, 金碧辉煌
        #expect(result.excluded["frequency"] == 1)
        #expect(result.excluded["no_surname"] == 2)
        #expect(result.excluded["place_suffix"] == 1)
        #expect(result.excluded["stop_word"] == 1)
        let lenient = NameLexiconBuilder(options: .init(minimumLength: 2, minimumFrequency: 1, requireSurname: false))
        #expect(lenient.build(dictionaryText: dictionary).names.contains("明白"))
    }

    @Test("the name lexicon from jieba's real dictionary keeps famous names and drops common words")
    func jiebaLexicon() throws {
        let path = "/usr/lib/python3/dist-packages/jieba/dict.txt"
        guard FileManager.default.fileExists(atPath: path) else { return }  // apt-get install python3-jieba
        let result = try NameLexiconBuilder().build(jiebaDictionary: path)
        let names = Set(result.names)
        #expect(result.candidates > 50_000)
        #expect((5_000...40_000).contains(names.count))
        for name in ["毛泽东", "韦小宝", "令狐冲", "诸葛亮", "欧阳锋"] { #expect(names.contains(name), "\(name)") }
        for word in ["明白", "阳光", "文明", "小姐", "莫斯科", "维生素", "阿拉伯", "老太太", "小姑娘", "青少年", "黄金周"] {
            #expect(!names.contains(word), "\(word)")
        }
    }

    @Test("lexicon files: comments, annotations after a TAB, blank lines, inner spaces")
    func lexiconFiles() throws {
        let entries = Lexicon.parse("# header\n查看原网页\t# captions=12\n\n  click to enlarge  \r\n#x\n展开全文\n")
        #expect(entries == ["查看原网页", "click to enlarge", "展开全文"])
        try withTemporaryDirectory { directory in
            let path = directory + "/list.txt"
            try Lexicon.write(entries: [("甲乙丙丁", "# n=3"), ("戊己", nil)], header: ["a list"], to: path)
            #expect(try Lexicon.load(path: path).entries == ["甲乙丙丁", "戊己"])
            try Data([0xFF, 0xFE, 0x41]).write(to: URL(fileURLWithPath: path))
            #expect(throws: DataError.self) { try Lexicon.load(path: path) }
        }
    }
}

@Suite("Cleaning: shipped lexicons")
struct CleanShippedLexiconTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL.path

    @Test("lexicons/boilerplate.txt is the built-in default list, and the example lexicon loads")
    func shippedFiles() throws {
        #expect(try Lexicon.load(path: Self.root + "/lexicons/boilerplate.txt").entries == Lexicon.defaultBoilerplate.entries)
        let sensitive = try Lexicon.load(path: Self.root + "/lexicons/sensitive.example.txt")
        let cleaner = TextCleaner(rules: try TextRules(lexicons: TextLexicons(sensitive: sensitive)))
        #expect(cleaner.clean("专业代开发票，联系我").text == "专业****，联系我")
    }
}
