import ArgumentParser
import Benchmarks
import BriVLData
import BriVLEvaluation
import BriVLInference
import Foundation

extension BriVL {
    /// `brivl clean`: the cleaning stage.
    struct Clean: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clean WebDataset shards of image–text pairs (OPPOVL-style rules), with a report.",
            discussion: """
                `brivl clean SHARDS… --output DIR` runs the rules (the `run` subcommand is the default). Helpers build \
                the person-name lexicon from jieba's dictionary and mine boilerplate candidates for review.
                """,
            subcommands: [CleanRun.self, BuildNameLexicon.self, MineBoilerplate.self, MeasureTextRules.self],
            defaultSubcommand: CleanRun.self)
    }

    struct CleanRun: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Clean shards into cleaned/ and rejects/ shards plus report.json and report.md.",
            discussion: """
                Every pair is kept or rejected whole; rejects keep their files and carry `reject_reasons` in their \
                JSON metadata. Rerunning with the same arguments resumes: finished shards are skipped, an interrupted \
                shard is redone. Progress goes to stderr, the summary table to stdout.
                """)

        @Argument(help: "Shard files (.tar) or folders of shards, in order (the first of two duplicates is kept).")
        var inputs: [String]

        @Option(name: .shortAndLong, help: "Output folder.")
        var output: String

        @Option(help: "Shards cleaned at once (default: CPU cores).")
        var workers: Int?

        @Flag(help: "Clear a previous run's outputs in the output folder instead of resuming.")
        var restart = false

        @Flag(name: .shortAndLong, help: "No progress lines.")
        var quiet = false

        @OptionGroup(title: "Image rules") var image: CleanImageOptions
        @OptionGroup(title: "Text rules") var text: CleanTextOptions
        @OptionGroup(title: "Relevance and dedup") var relevance: CleanRelevanceOptions

        func validate() throws {
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        }

        func run() throws {
            let configuration = CleaningConfiguration(
                image: image.rules, text: text.rules, relevance: relevance.relevance, dedup: relevance.dedup)
            let lexicons = try text.lexicons()
            let relevanceModel = relevance.relevanceModel

            let standardError = FileHandle.standardError
            if !quiet {
                var notes: [String] = []
                if lexicons.sensitive == nil { notes.append("sensitive-word masking is off (no --sensitive-lexicon)") }
                if lexicons.names == nil { notes.append("name replacement is off (no --name-lexicon or --jieba-dict)") }
                if relevanceModel == nil { notes.append("relevance filter is off (no --relevance-model)") }
                if image.imageCheck == .structural { notes.append("structural image check: images are not re-encoded") }
                for note in notes { standardError.write(Data("[clean] note: \(note)\n".utf8)) }
            }
            let run = try CleaningRun(
                configuration: configuration, lexicons: lexicons, codec: image.codec,
                scorer: try relevanceModel.map { ModelRelevanceScorer(try TrainedModel(path: $0)) },
                options: CleaningRunOptions(
                    inputs: inputs, outputDirectory: output,
                    workers: workers ?? ProcessInfo.processInfo.activeProcessorCount, restart: restart))
            let quiet = self.quiet
            let report = try run.run { progress in
                if !quiet { FileHandle.standardError.write(Data((progress.line + "\n").utf8)) }
            }
            print(report.consoleTable())
            print("wrote \(output)/cleaned, \(output)/rejects, \(output)/report.json, \(output)/report.md")
        }
    }

    struct BuildNameLexicon: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build-name-lexicon",
            abstract: "Build a person-name lexicon from jieba's dict.txt (POS nr), filtered so ordinary words stay.",
            discussion: """
                jieba: `apt-get install -y python3-jieba` (dictionary at /usr/lib/python3/dist-packages/jieba/dict.txt) \
                or PyPI jieba. Kept: all-Han entries of 3 characters starting with a common surname (3–4 with a \
                compound surname), frequency ≥ --min-frequency, not ending like a place name, not on the stop lists. \
                The output is one name per line: review and edit it, then pass it to `brivl clean --name-lexicon`.
                """)

        @Option(help: "jieba's dict.txt.")
        var jiebaDict = "/usr/lib/python3/dist-packages/jieba/dict.txt"

        @Option(name: .shortAndLong, help: "Lexicon file to write.")
        var output: String

        @Option(help: "Shortest name kept, in characters.")
        var minLength = 3

        @Option(help: "Longest name kept (names with a single-character surname stop at 3).")
        var maxLength = 4

        @Option(help: "Smallest jieba frequency kept.")
        var minFrequency = 3

        @Flag(help: "Keep names that do not start with a common surname.")
        var noRequireSurname = false

        @Option(help: "A file of words never to treat as names (one per line).")
        var stopList: String?

        func validate() throws {
            if minLength < 1 || maxLength < minLength {
                throw ValidationError("need 1 ≤ --min-length ≤ --max-length")
            }
            if !FileManager.default.isReadableFile(atPath: jiebaDict) {
                throw ValidationError(
                    "cannot read \(jiebaDict); install it with `apt-get install -y python3-jieba` or pass --jieba-dict")
            }
        }

        func run() throws {
            let stopWords = try stopList.map { try Lexicon.load(path: $0).entries } ?? []
            let builder = NameLexiconBuilder(
                options: .init(
                    minimumLength: minLength, maximumLength: maxLength, minimumFrequency: minFrequency,
                    requireSurname: !noRequireSurname, extraStopWords: stopWords))
            let result = try builder.build(jiebaDictionary: jiebaDict)
            let excluded = result.excluded.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ")
            try Lexicon.write(
                entries: result.names.map { ($0, nil) },
                header: [
                    "Person names for `brivl clean --name-lexicon`, built by `brivl clean build-name-lexicon` from",
                    "\(jiebaDict) (POS nr): \(result.names.count) of \(result.candidates) entries kept.",
                    "Left out: \(excluded).",
                    "One name per line; edit freely (lines starting with # are comments).",
                ], to: output)
            print("wrote \(result.names.count) names (of \(result.candidates) nr entries) to \(output); left out: \(excluded)")
        }
    }

    struct MineBoilerplate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mine-boilerplate",
            abstract: "Find phrases that recur as detached units across many different captions (boilerplate candidates).",
            discussion: """
                Writes one candidate per line with its caption count and detached share after a TAB (ignored when \
                read). Review the list — delete content phrases — and pass it to `brivl clean --boilerplate`.
                """)

        @Argument(help: "Shard files or folders.")
        var inputs: [String]

        @Option(help: "Distinct captions a phrase must appear in.")
        var minCount = 50

        @Option(help: "Shortest phrase, in characters.")
        var minLength = 4

        @Option(help: "Longest phrase, in characters.")
        var maxLength = 24

        @Option(help: "Share of its captions in which the phrase must stand detached (at an end or by punctuation).")
        var minDetachedRatio = 0.8

        @Option(help: "Distinct neighbouring characters a phrase needs on each side (an edge or punctuation counts as new).")
        var minVariety = 8

        @Option(help: "Distinct captions to read at most.")
        var maxCaptions = 2_000_000

        @Option(name: .shortAndLong, help: "List file to write.")
        var output: String

        func validate() throws {
            if minCount < 2 { throw ValidationError("--min-count must be at least 2") }
            if minLength < 2 || maxLength < minLength { throw ValidationError("need 2 ≤ --min-length ≤ --max-length") }
            if !(0...1).contains(minDetachedRatio) { throw ValidationError("--min-detached-ratio must be in 0...1") }
            if minVariety < 1 { throw ValidationError("--min-variety must be at least 1") }
        }

        func run() throws {
            var miner = BoilerplateMiner(
                options: .init(
                    minimumCount: minCount, minimumLength: minLength, maximumLength: maxLength,
                    minimumDetachedRatio: minDetachedRatio, minimumVariety: minVariety, maximumCaptions: maxCaptions))
            let read = try miner.addCaptions(fromShards: inputs)
            for error in read.errors { FileHandle.standardError.write(Data("[mine] \(error)\n".utf8)) }
            let candidates = miner.mine()
            try Lexicon.write(
                entries: candidates.map {
                    ($0.phrase, "# captions=\($0.captions) detached=\(String(format: "%.2f", $0.detachedRatio))")
                },
                header: [
                    "Boilerplate candidates mined by `brivl clean mine-boilerplate` from \(read.samples) samples",
                    "(\(miner.distinctCaptions) distinct captions; min count \(minCount), detached ≥ \(minDetachedRatio), variety ≥ \(minVariety)).",
                    "REVIEW: delete lines that are content, then use with `brivl clean --boilerplate FILE`.",
                ], to: output)
            print(
                "wrote \(candidates.count) candidates from \(miner.distinctCaptions) distinct captions "
                    + "(\(read.samples) samples, \(read.withoutCaption) without caption) to \(output)")
        }
    }

    struct MeasureTextRules: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "measure-text-rules",
            abstract: "Text-rule throughput on one thread (target ≥ 50k pairs/s per core); one JSON line.",
            discussion: "Build in release for meaningful figures.")

        @Option(help: "Synthetic captions per round.")
        var pairs = 100_000

        @Option(help: "Timed rounds; the median is reported.")
        var rounds = 5

        @Option(help: "Use the name lexicon built from this jieba dict.txt instead of a synthetic one.")
        var jiebaDict: String?

        func run() throws {
            let result = try TextRuleBenchmark(pairs: pairs, rounds: rounds, jiebaDictionary: jiebaDict).run()
            print(result.jsonLine)
        }
    }
}

extension LanguagePolicy: ExpressibleByArgument {}
