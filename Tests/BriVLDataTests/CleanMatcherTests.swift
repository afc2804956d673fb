import Foundation
import Testing

@testable import BriVLData

/// Naive reference: every (start, end, pattern) where the folded text equals the folded pattern, with the same
/// boundary rule, and the greedy leftmost-longest selection over them.
private struct NaiveMatcher {
    var patterns: [[UInt32]]
    var options: MultiPatternMatcher.Options

    init(_ patterns: [String], options: MultiPatternMatcher.Options) {
        self.options = options
        var seen = Set<[UInt32]>()
        self.patterns = []
        for pattern in patterns {
            let folded = pattern.unicodeScalars.map { options.foldCase ? MultiPatternMatcher.fold($0.value) : $0.value }
            if !folded.isEmpty && seen.insert(folded).inserted { self.patterns.append(folded) }
        }
    }

    func fold(_ value: UInt32) -> UInt32 { options.foldCase ? MultiPatternMatcher.fold(value) : value }

    func all(_ text: String) -> Set<MultiPatternMatcher.Occurrence> {
        let scalars = text.unicodeScalars.map { fold($0.value) }
        var result = Set<MultiPatternMatcher.Occurrence>()
        for (id, pattern) in patterns.enumerated() where pattern.count <= scalars.count {
            for start in 0...(scalars.count - pattern.count) where Array(scalars[start..<(start + pattern.count)]) == pattern {
                let end = start + pattern.count
                if options.asciiWordBoundaries {
                    if MultiPatternMatcher.isASCIIAlphanumeric(pattern.first!), start > 0,
                        MultiPatternMatcher.isASCIIAlphanumeric(scalars[start - 1])
                    {
                        continue
                    }
                    if MultiPatternMatcher.isASCIIAlphanumeric(pattern.last!), end < scalars.count,
                        MultiPatternMatcher.isASCIIAlphanumeric(scalars[end])
                    {
                        continue
                    }
                }
                result.insert(.init(start: start, end: end, pattern: id))
            }
        }
        return result
    }

    func leftmostLongest(_ text: String) -> [MultiPatternMatcher.Occurrence] {
        let byStart = Dictionary(grouping: all(text), by: \.start)
        var result: [MultiPatternMatcher.Occurrence] = []
        var position = 0
        let count = text.unicodeScalars.count
        while position < count {
            if let best = byStart[position]?.max(by: { $0.end < $1.end }) {
                result.append(best)
                position = best.end
            } else {
                position += 1
            }
        }
        return result
    }
}

@Suite("Cleaning: Aho–Corasick matcher")
struct CleanMatcherTests {
    @Test("matches a naive reference on random strings (all occurrences and leftmost-longest)")
    func randomAgainstNaive() throws {
        var random = LoaderRandom(seed: 11)
        let alphabets: [[String]] = [["a", "b"], ["a", "b", "c", "A"], ["中", "国", "人", "a", "B", " ", "𠀀"]]
        for trial in 0..<200 {
            let alphabet = alphabets[trial % alphabets.count]
            func word(_ length: Int) -> String { (0..<length).map { _ in random.element(alphabet) }.joined() }
            let patterns = (0..<(1 + random.below(12))).map { _ in word(1 + random.below(5)) }
            let options = MultiPatternMatcher.Options(foldCase: trial % 2 == 0, asciiWordBoundaries: trial % 3 == 0)
            let matcher = try MultiPatternMatcher(patterns: patterns, options: options)
            let naive = NaiveMatcher(patterns, options: options)
            #expect(matcher.patterns.count == naive.patterns.count)
            for _ in 0..<5 {
                let text = word(random.below(40))
                #expect(Set(matcher.allOccurrences(in: text)) == naive.all(text), "patterns \(patterns) text \(text)")
                #expect(matcher.allOccurrences(in: text).count == naive.all(text).count)
                #expect(matcher.leftmostLongest(in: text) == naive.leftmostLongest(text), "patterns \(patterns) text \(text)")
            }
        }
    }

    @Test("overlapping patterns: every occurrence, and leftmost-longest picks the longest at the leftmost start")
    func overlapping() throws {
        let english = try MultiPatternMatcher(
            patterns: ["he", "she", "his", "hers"], options: .init(asciiWordBoundaries: false))
        let found = english.allOccurrences(in: "ushers").map { english.patterns[$0.pattern] }
        #expect(Set(found) == ["she", "he", "hers"])
        #expect(english.leftmostLongest(in: "ushers").map { english.patterns[$0.pattern] } == ["she"])

        let chinese = try MultiPatternMatcher(patterns: ["中国", "中国人", "国人民", "人民"])
        #expect(chinese.allOccurrences(in: "中国人民").count == 4)
        let picked = chinese.leftmostLongest(in: "中国人民")
        #expect(picked.map { chinese.patterns[$0.pattern] } == ["中国人"])
        #expect(picked.first.map { [$0.start, $0.end] } == [0, 3])

        let nested = try MultiPatternMatcher(patterns: ["ab", "abcd", "bcde"], options: .init(asciiWordBoundaries: false))
        #expect(nested.leftmostLongest(in: "abcdef").map { nested.patterns[$0.pattern] } == ["abcd"])
    }

    @Test("case and width folding, ASCII word boundaries, and scalars outside the BMP")
    func foldingAndBoundaries() throws {
        let matcher = try MultiPatternMatcher(patterns: ["qq群", "ass", "Free Money", "𠀀𠀁"])
        #expect(matcher.allOccurrences(in: "加ＱＱ群领取").map(\.start) == [1])
        #expect(matcher.allOccurrences(in: "a class act").isEmpty)
        #expect(matcher.allOccurrences(in: "you ass!").count == 1)
        #expect(matcher.allOccurrences(in: "FREE MONEY now").count == 1)
        #expect(matcher.allOccurrences(in: "freemoney").isEmpty)
        #expect(matcher.allOccurrences(in: "中𠀀𠀁文").map { [$0.start, $0.end] } == [[1, 3]])
        let plain = try MultiPatternMatcher(patterns: ["ass"], options: .init(foldCase: false, asciiWordBoundaries: false))
        #expect(plain.allOccurrences(in: "a class ASS").count == 1)
    }

    @Test("empty and duplicate patterns are ignored")
    func degenerate() throws {
        let matcher = try MultiPatternMatcher(patterns: ["", "猫", "猫", "CAT", "cat"])
        #expect(matcher.patterns == ["猫", "CAT"])
        #expect(try MultiPatternMatcher(patterns: []).allOccurrences(in: "任何文字").isEmpty)
        #expect(matcher.allOccurrences(in: "").isEmpty)
    }
}
