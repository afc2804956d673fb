import BriVLData
import Foundation

/// The `clean_text_rules` workload of ``DataBenchmark``: the cleaning stage's text rules on one thread.
extension DataBenchmark {
    static let cleanTextRulesWorkloadDescription = (
        name: "clean_text_rules",
        summary: "cleaning text rules (boilerplate removal, language check, sensitive-word masking, person-name "
            + "replacement, dedup normalisation) on 100k synthetic Chinese captions, pairs/s on one thread (target "
            + "≥ 50k); name lexicon from jieba's dict.txt when installed, else 20k synthetic names"
    )

    func cleanTextRules() throws -> BenchmarkRecord {
        let jieba = "/usr/lib/python3/dist-packages/jieba/dict.txt"
        let benchmark = TextRuleBenchmark(
            pairs: 100_000, rounds: configuration.rounds,
            jiebaDictionary: FileManager.default.fileExists(atPath: jieba) ? jieba : nil)
        let result = try benchmark.run()
        return BenchmarkRecord([
            ("bench", "data"), ("name", "clean_text_rules"),
            ("ours_pairs_per_s", .number(result.textRulesPairsPerSecond)),
            ("with_json_decode_pairs_per_s", .number(result.withJSONPairsPerSecond)),
            ("target_pairs_per_s", .integer(50_000)), ("pairs", .integer(result.pairs)),
            ("name_lexicon_entries", .integer(result.nameLexiconEntries)),
            ("modified_share", .number(result.modifiedShare)), ("threads", 1),
        ])
    }
}
