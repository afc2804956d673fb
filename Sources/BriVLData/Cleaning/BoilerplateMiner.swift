import ContentHashing
import Foundation

/// Finds boilerplate candidates — phrases that recur across many different captions as detached units (查看原网页,
/// 展开全文, "click to enlarge") — for a person to review into the boilerplate list.
///
/// Method: count, for every substring of 2…`maximumLength` scalars, how many **distinct** captions contain it
/// (identical captions count once, so one caption repeated a thousand times proves nothing). Longer substrings are
/// only counted when both their one-shorter prefix and suffix were frequent (the Apriori property), which keeps
/// memory near the number of frequent phrases. A frequent substring is a candidate when:
/// - at least `minimumCount` distinct captions contain it and it is `minimumLength` scalars or longer;
/// - it neither starts nor ends with whitespace or punctuation;
/// - in at least `minimumDetachedRatio` of the captions containing it, it stands detached: at the start or end of the
///   caption or next to whitespace/punctuation on at least one side. Ordinary words recur too, but inside sentences;
///   boilerplate is appended or prepended as a unit;
/// - no longer candidate contains it in nearly as many captions (then it is just a piece of that one);
/// - its accessor variety (Feng et al., 2004) is at least `minimumVariety` on both sides: the number of distinct
///   characters seen just before (after) it, where each occurrence at a caption edge or next to whitespace or
///   punctuation counts as a new one. A unit of boilerplate is appended to anything, so its neighbours vary; a
///   frequent clause ending such as 非常漂亮地发光 follows only a few words.
///
/// Frequent content phrases of a templated corpus can pass these tests; that is why the output is reviewed.
public struct BoilerplateMiner: Sendable {
    public struct Options: Sendable, Equatable {
        public var minimumCount: Int
        public var minimumLength: Int
        public var maximumLength: Int
        public var minimumDetachedRatio: Double
        public var minimumVariety: Int
        /// Distinct captions kept for mining; later ones are ignored (and counted in `captionsIgnored`).
        public var maximumCaptions: Int

        public init(
            minimumCount: Int = 50, minimumLength: Int = 4, maximumLength: Int = 24, minimumDetachedRatio: Double = 0.8,
            minimumVariety: Int = 8, maximumCaptions: Int = 2_000_000
        ) {
            self.minimumVariety = minimumVariety
            self.minimumCount = minimumCount
            self.minimumLength = minimumLength
            self.maximumLength = maximumLength
            self.minimumDetachedRatio = minimumDetachedRatio
            self.maximumCaptions = maximumCaptions
        }
    }

    public struct Candidate: Sendable, Equatable {
        public var phrase: String
        /// Distinct captions containing the phrase.
        public var captions: Int
        /// Share of those captions where it stands detached.
        public var detachedRatio: Double
    }

    public var options: Options
    private var scalars: [UInt32] = []
    private var offsets: [Int] = [0]
    private var seen = Set<ContentHash>()
    public private(set) var captionsAdded = 0
    public private(set) var duplicateCaptions = 0
    public private(set) var captionsIgnored = 0

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Distinct captions held.
    public var distinctCaptions: Int { offsets.count - 1 }

    public mutating func add(caption: String) {
        captionsAdded += 1
        guard seen.insert(ContentHash.of(caption)).inserted else {
            duplicateCaptions += 1
            return
        }
        guard distinctCaptions < options.maximumCaptions else {
            captionsIgnored += 1
            return
        }
        TextScalars.appendScalars(of: caption, to: &scalars)
        offsets.append(scalars.count)
    }

    private struct Stats {
        var captions: Int32 = 0
        var detached: Int32 = 0
        var lastCaption: Int32 = -1
        var lastDetachedCaption: Int32 = -1
        var exampleStart: Int32 = 0
    }

    public func mine() -> [Candidate] {
        let maximumLength = max(2, options.maximumLength)
        var frequent = Set<UInt64>()
        var candidates: [(phrase: [UInt32], stats: Stats)] = []
        scalars.withUnsafeBufferPointer { text in
            for length in 2...maximumLength {
                var table: [UInt64: Stats] = [:]
                for caption in 0..<distinctCaptions {
                    let start = offsets[caption], end = offsets[caption + 1]
                    guard end - start >= length else { continue }
                    for position in start...(end - length) {
                        if length > 2 {
                            guard frequent.contains(Self.hash(text, position, length - 1)),
                                frequent.contains(Self.hash(text, position + 1, length - 1))
                            else { continue }
                        }
                        let key = Self.hash(text, position, length)
                        var stats = table[key] ?? Stats(exampleStart: Int32(position))
                        if stats.lastCaption != Int32(caption) {
                            stats.lastCaption = Int32(caption)
                            stats.captions += 1
                        }
                        let detached =
                            position == start || TextScalars.isSeparator(text[position - 1])
                            || position + length == end || TextScalars.isSeparator(text[position + length])
                        if detached && stats.lastDetachedCaption != Int32(caption) {
                            stats.lastDetachedCaption = Int32(caption)
                            stats.detached += 1
                        }
                        table[key] = stats
                    }
                }
                frequent.removeAll(keepingCapacity: true)
                for (key, stats) in table where Int(stats.captions) >= options.minimumCount {
                    frequent.insert(key)
                    guard length >= options.minimumLength else { continue }
                    let phrase = Array(text[Int(stats.exampleStart)..<Int(stats.exampleStart) + length])
                    guard !TextScalars.isSeparator(phrase.first!), !TextScalars.isSeparator(phrase.last!) else {
                        continue
                    }
                    guard Double(stats.detached) >= options.minimumDetachedRatio * Double(stats.captions) else {
                        continue
                    }
                    candidates.append((phrase, stats))
                }
                if frequent.isEmpty { break }
            }
        }
        // Drop pieces of longer candidates found in nearly as many captions.
        candidates.sort { $0.phrase.count > $1.phrase.count }
        var kept: [(phrase: [UInt32], stats: Stats)] = []
        for candidate in candidates {
            let redundant = kept.contains { longer in
                Double(longer.stats.captions) >= 0.8 * Double(candidate.stats.captions)
                    && Self.contains(longer.phrase, candidate.phrase)
            }
            if !redundant { kept.append(candidate) }
        }
        kept = filterByVariety(kept)
        return kept.map {
            Candidate(
                phrase: TextScalars.string(from: $0.phrase), captions: Int($0.stats.captions),
                detachedRatio: Double($0.stats.detached) / Double(max(1, $0.stats.captions)))
        }.sorted { ($0.captions, $1.phrase) > ($1.captions, $0.phrase) }
    }

    /// Keeps candidates whose accessor variety reaches `minimumVariety` on both sides (second pass, all candidates
    /// at once with the Aho–Corasick matcher).
    private func filterByVariety(_ candidates: [(phrase: [UInt32], stats: Stats)]) -> [(phrase: [UInt32], stats: Stats)] {
        guard options.minimumVariety > 1, !candidates.isEmpty,
            let matcher = try? MultiPatternMatcher(
                patterns: candidates.map { TextScalars.string(from: $0.phrase) },
                options: .init(foldCase: false, asciiWordBoundaries: false))
        else { return candidates }
        let limit = options.minimumVariety
        var leftSeen = [Set<UInt32>](repeating: [], count: matcher.patterns.count)
        var rightSeen = leftSeen
        var leftOpen = [Int](repeating: 0, count: matcher.patterns.count)
        var rightOpen = leftOpen
        scalars.withUnsafeBufferPointer { text in
            for caption in 0..<distinctCaptions {
                let start = offsets[caption], end = offsets[caption + 1]
                let slice = UnsafeBufferPointer(rebasing: text[start..<end])
                matcher.forEachOccurrence(in: slice) { from, to, pattern in
                    if leftSeen[pattern].count + leftOpen[pattern] < limit {
                        if from == 0 || TextScalars.isSeparator(slice[from - 1]) {
                            leftOpen[pattern] += 1
                        } else {
                            leftSeen[pattern].insert(slice[from - 1])
                        }
                    }
                    if rightSeen[pattern].count + rightOpen[pattern] < limit {
                        if to == slice.count || TextScalars.isSeparator(slice[to]) {
                            rightOpen[pattern] += 1
                        } else {
                            rightSeen[pattern].insert(slice[to])
                        }
                    }
                }
            }
        }
        var byPhrase: [[UInt32]: Int] = [:]
        for (id, pattern) in matcher.patterns.enumerated() { byPhrase[pattern.unicodeScalars.map(\.value)] = id }
        return candidates.filter { candidate in
            guard let id = byPhrase[candidate.phrase] else { return true }
            return leftSeen[id].count + leftOpen[id] >= limit && rightSeen[id].count + rightOpen[id] >= limit
        }
    }

    @inline(__always)
    private static func hash(_ text: UnsafeBufferPointer<UInt32>, _ start: Int, _ length: Int) -> UInt64 {
        // FNV-1a over the scalars with a length tweak, then a final mix: good enough to tell n-grams apart in a table.
        var value: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(length)
        for index in start..<(start + length) {
            value ^= UInt64(text[index])
            value = value &* 0x0000_0100_0000_01b3
        }
        value ^= value >> 29
        value = value &* 0xbf58_476d_1ce4_e5b9
        return value ^ (value >> 32)
    }

    private static func contains(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}

extension BoilerplateMiner {
    /// What ``addCaptions(fromShards:)`` read.
    public struct ReadSummary: Sendable {
        public var samples = 0
        /// Samples without a readable caption (no caption, invalid UTF-8 or JSON).
        public var withoutCaption = 0
        /// Archive problems, one line each.
        public var errors: [String] = []
    }

    /// Adds every caption of the shards (folders are expanded as ``ShardIndex/discover(in:)`` does).
    public mutating func addCaptions(fromShards inputs: [String]) throws -> ReadSummary {
        var summary = ReadSummary()
        for job in try CleaningRun.discover(inputs) {
            var stream: CleaningSampleStream
            do {
                stream = try CleaningSampleStream(path: job.path)
            } catch {
                summary.errors.append("\(error)")
                continue
            }
            while let event = stream.next() {
                switch event {
                case .sample(let sample), .brokenSample(let sample, _):
                    summary.samples += 1
                    if case .brokenSample(_, let error) = event { summary.errors.append("\(error)") }
                    guard let texts = try? CaptionReader.record(of: sample).get().texts else {
                        summary.withoutCaption += 1
                        continue
                    }
                    for text in texts { add(caption: text) }
                case .archiveError(let error):
                    summary.errors.append("\(error)")
                case .skippedMember:
                    continue
                }
            }
        }
        return summary
    }
}
