import BriVLData
import Foundation

/// Measures the text rules' throughput on one thread (the target is ≥ 50k pairs/s per core), on a synthetic corpus
/// that exercises every rule: Chinese captions of 8–60 characters with person names (~20%), sensitive words (~5%),
/// boilerplate (~10%), some English, and lexicons of realistic size (a 20k-name lexicon, 1k sensitive words, the
/// default boilerplate list). With jieba's dictionary the name lexicon is the real one built from it.
public struct TextRuleBenchmark: Sendable {
    public struct Result: Sendable, Codable {
        /// Median over rounds: captions through ``TextCleaner`` (all text rules + dedup normalisation) per second.
        public var textRulesPairsPerSecond: Double
        /// Median: the same plus decoding the caption JSON (`PairRecord`) first, as a run does.
        public var withJSONPairsPerSecond: Double
        public var pairs: Int
        public var rounds: Int
        public var nameLexiconEntries: Int
        public var nameLexiconSource: String
        public var modifiedShare: Double

        enum CodingKeys: String, CodingKey {
            case textRulesPairsPerSecond = "text_rules_pairs_per_s"
            case withJSONPairsPerSecond = "with_json_pairs_per_s"
            case pairs, rounds
            case nameLexiconEntries = "name_lexicon_entries"
            case nameLexiconSource = "name_lexicon_source"
            case modifiedShare = "modified_share"
        }

        /// One JSON line with stable keys, `"bench":"clean_text_rules"` first.
        public var jsonLine: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "{\"bench\":\"clean_text_rules\"," + body.dropFirst()
        }
    }

    public var pairs: Int
    public var rounds: Int
    public var jiebaDictionary: String?
    public var seed: UInt64

    public init(pairs: Int = 100_000, rounds: Int = 5, jiebaDictionary: String? = nil, seed: UInt64 = 42) {
        self.pairs = pairs
        self.rounds = rounds
        self.jiebaDictionary = jiebaDictionary
        self.seed = seed
    }

    /// The synthetic corpus and lexicons.
    public func corpus() throws -> (captions: [String], lexicons: TextLexicons) {
        // LoaderRandom draws the same sequence on every machine, so the corpus is the same everywhere.
        var random = LoaderRandom(seed: seed)
        // A pool of common-looking Han characters.
        let pool: [Character] = (0..<2500).map { _ in Character(Unicode.Scalar(0x4E00 + UInt32(random.below(0x5000)))!) }
        func hanWord(_ length: Int) -> String { String((0..<length).map { _ in pool[random.below(pool.count)] }) }

        var names: Lexicon
        if let path = jiebaDictionary {
            let built = try NameLexiconBuilder().build(jiebaDictionary: path)
            names = Lexicon(source: path, entries: built.names)
        } else {
            let surnames = Array(NameLexiconBuilder.singleSurnames).sorted { $0.value < $1.value }
            names = Lexicon(
                source: "synthetic", entries: (0..<20_000).map { _ in String(Character(surnames[random.below(surnames.count)])) + hanWord(2) })
        }
        let sensitive = Lexicon(
            source: "synthetic",
            entries: (0..<1000).map { _ in hanWord(2 + random.below(3)) } + ["spam", "casino", "free money"])
        let boilerplate = Lexicon.defaultBoilerplate
        let english = ["photo", "HD", "wallpaper", "Free Money", "stock image", "4K", "iPhone"]

        var captions: [String] = []
        captions.reserveCapacity(pairs)
        for _ in 0..<pairs {
            var caption = hanWord(8 + random.below(40))
            if random.below(100) < 20 {
                let name = names.entries[random.below(names.entries.count)]
                let cut = caption.index(caption.startIndex, offsetBy: random.below(caption.count))
                caption.insert(contentsOf: name, at: cut)
            }
            if random.below(100) < 5 { caption += sensitive.entries[random.below(sensitive.entries.count)] }
            if random.below(100) < 15 { caption += " " + english[random.below(english.count)] }
            if random.below(100) < 10 { caption += "，" + boilerplate.entries[random.below(boilerplate.entries.count)] }
            if random.below(100) < 30 { caption += hanWord(random.below(12)) + "。" }
            captions.append(caption)
        }
        return (captions, TextLexicons(sensitive: sensitive, names: names, boilerplate: boilerplate))
    }

    public func run() throws -> Result {
        let (captions, lexicons) = try corpus()
        let rules = try TextRules(lexicons: lexicons)
        let cleaner = TextCleaner(rules: rules)
        let records = try captions.map { try PairRecord(texts: [$0]).encoded() }
        let decoder = JSONDecoder()
        var modified = 0
        for caption in captions.prefix(2000) where cleaner.clean(caption).changed { modified += 1 }

        var textRates: [Double] = []
        var jsonRates: [Double] = []
        var sink = 0
        for _ in 0..<max(1, rounds) {
            var start = DispatchTime.now().uptimeNanoseconds
            for caption in captions { sink &+= Int(truncatingIfNeeded: cleaner.clean(caption).normalizedHash.low) }
            var seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            textRates.append(Double(captions.count) / seconds)

            start = DispatchTime.now().uptimeNanoseconds
            for record in records {
                let texts = try decoder.decode(PairRecord.self, from: record).texts
                for text in texts { sink &+= Int(truncatingIfNeeded: cleaner.clean(text).normalizedHash.low) }
            }
            seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            jsonRates.append(Double(records.count) / seconds)
        }
        if sink == 42 { FileHandle.standardError.write(Data()) }  // keeps the work observable
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Result(
            textRulesPairsPerSecond: median(textRates), withJSONPairsPerSecond: median(jsonRates), pairs: captions.count,
            rounds: max(1, rounds), nameLexiconEntries: lexicons.names?.entries.count ?? 0,
            nameLexiconSource: lexicons.names?.source ?? "none",
            modifiedShare: Double(modified) / Double(min(2000, captions.count)))
    }
}
