import Foundation

/// Finds many patterns at once in text, in time linear in the text plus the matches: an Aho–Corasick automaton over
/// Unicode scalars.
///
/// Text and patterns are compared scalar by scalar after folding (see ``Options``), so one scalar of text is one
/// step of the automaton whatever its UTF-8 length. Positions in results are scalar offsets.
///
/// Match semantics:
/// - ``forEachOccurrence(in:_:)`` reports **every** occurrence of every pattern, overlapping ones included, in order of
///   their end position (and, at one end position, longest first).
/// - ``leftmostLongest(in:scratch:into:)`` picks **non-overlapping** occurrences, scanning left to right: at the
///   leftmost position where any occurrence starts it takes the longest pattern starting there, then resumes after it.
///   E.g. patterns {"ab", "abcd", "bcde"} in "abcdef" give "abcd" (not "bcde", which starts later).
///   This is what replacement needs (each replaced span is a whole pattern).
///
/// Storage: a dense row for the root (one entry per alphabet symbol) and sorted edge lists elsewhere, with failure and
/// output links, so a 20k-name lexicon stays a few MB. Patterns are interned by their folded form; duplicate patterns
/// share one id (the first).
public final class MultiPatternMatcher: Sendable {
    public struct Options: Sendable, Hashable, Codable {
        /// Fold ASCII letters to lower case, full-width ASCII forms (U+FF01–FF5E) to ASCII and the ideographic space to
        /// a space, in both patterns and text, so "ＱＱ" and "qq" match "QQ". Folding maps one scalar to one scalar,
        /// so offsets are unchanged.
        public var foldCase: Bool
        /// A pattern that starts (ends) with an ASCII letter or digit only matches where the text has no ASCII letter
        /// or digit just before (after) it, so "ass" is not found inside "class". Chinese has no such boundaries and
        /// matches anywhere.
        public var asciiWordBoundaries: Bool

        public init(foldCase: Bool = true, asciiWordBoundaries: Bool = true) {
            self.foldCase = foldCase
            self.asciiWordBoundaries = asciiWordBoundaries
        }

        enum CodingKeys: String, CodingKey {
            case foldCase = "fold_case"
            case asciiWordBoundaries = "ascii_word_boundaries"
        }
    }

    /// One occurrence: scalars `start..<end` of the text are pattern number `pattern`.
    public struct Occurrence: Sendable, Hashable {
        public var start: Int
        public var end: Int
        public var pattern: Int

        public init(start: Int, end: Int, pattern: Int) {
            self.start = start
            self.end = end
            self.pattern = pattern
        }
    }

    /// The distinct patterns, in first-seen order; an occurrence's `pattern` indexes this.
    public let patterns: [String]
    public let options: Options

    private let bmpSymbols: [UInt16]
    private let otherSymbols: [UInt32: UInt16]
    private let rootNext: [Int32]
    private let edgeStart: [Int32]
    private let edgeSymbols: [UInt16]
    private let edgeTargets: [Int32]
    private let failure: [Int32]
    /// The pattern that ends exactly at a state (the longest one, since a state is one string), or -1.
    private let outputPattern: [Int32]
    /// The nearest state down the failure chain that has an output, or -1.
    private let outputLink: [Int32]
    private let patternLengths: [Int32]
    /// Per pattern: bit 0 = needs an ASCII word boundary before it, bit 1 = after it.
    private let boundaryFlags: [UInt8]

    public var stateCount: Int { failure.count }
    public var isEmpty: Bool { patterns.isEmpty }

    /// Builds the automaton. Empty patterns are ignored.
    /// - Throws: `DataError.invalidConfiguration` when the patterns use more than 65,535 distinct scalars.
    public init(patterns input: [String], options: Options = Options()) throws {
        self.options = options
        let foldCase = options.foldCase
        let fold: (UInt32) -> UInt32 = { foldCase ? MultiPatternMatcher.fold($0) : $0 }
        let (folded, originals) = Self.intern(input, fold: fold)
        patterns = originals
        let symbolOf = try Self.alphabet(of: folded)
        (bmpSymbols, otherSymbols) = Self.symbolTables(symbolOf, fold: fold)
        let trie = Self.trie(of: folded, symbols: symbolOf, asciiWordBoundaries: options.asciiWordBoundaries)
        patternLengths = trie.lengths
        boundaryFlags = trie.flags
        let edges = Self.compactEdges(trie.children, alphabetSize: symbolOf.count)
        (edgeStart, edgeSymbols, edgeTargets, rootNext) = (edges.starts, edges.symbols, edges.targets, edges.root)
        (failure, outputLink) = Self.failureLinks(trie.children, output: trie.output)
        outputPattern = trie.output
    }

    // MARK: Building the automaton

    /// The distinct non-empty patterns, folded, beside the first spelling of each.
    private static func intern(_ input: [String], fold: (UInt32) -> UInt32) -> (folded: [[UInt32]], originals: [String]) {
        var folded: [[UInt32]] = []
        var originals: [String] = []
        var seen: Set<[UInt32]> = []
        for pattern in input {
            let scalars = pattern.unicodeScalars.map { fold($0.value) }
            guard !scalars.isEmpty, seen.insert(scalars).inserted else { continue }
            folded.append(scalars)
            originals.append(pattern)
        }
        return (folded, originals)
    }

    /// The folded scalars of the patterns, numbered from 1 (0 = absent from every pattern).
    private static func alphabet(of folded: [[UInt32]]) throws -> [UInt32: UInt16] {
        var symbolOf: [UInt32: UInt16] = [:]
        for scalars in folded {
            for value in scalars where symbolOf[value] == nil {
                guard symbolOf.count < Int(UInt16.max) else {
                    throw DataError.invalidConfiguration("patterns use more than 65,535 distinct characters")
                }
                symbolOf[value] = UInt16(symbolOf.count + 1)
            }
        }
        return symbolOf
    }

    /// The symbol of every BMP scalar (folded first) as a flat table, and of the scalars beyond it as a dictionary.
    private static func symbolTables(_ symbolOf: [UInt32: UInt16], fold: (UInt32) -> UInt32)
        -> (bmp: [UInt16], other: [UInt32: UInt16])
    {
        var bmp = [UInt16](repeating: 0, count: 0x10000)
        var other: [UInt32: UInt16] = [:]
        guard !symbolOf.isEmpty else { return (bmp, other) }
        for value in 0..<UInt32(0x10000) {
            if let symbol = symbolOf[fold(value)] { bmp[Int(value)] = symbol }
        }
        for (value, symbol) in symbolOf where value >= 0x10000 { other[value] = symbol }
        return (bmp, other)
    }

    /// The patterns' trie: children per state, the pattern ending at each state, and per pattern its length and
    /// word-boundary flags.
    private struct Trie {
        var children: [[UInt16: Int32]] = [[:]]
        var output: [Int32] = [-1]
        var lengths: [Int32] = []
        var flags: [UInt8] = []
    }

    private static func trie(of folded: [[UInt32]], symbols symbolOf: [UInt32: UInt16], asciiWordBoundaries: Bool)
        -> Trie
    {
        var trie = Trie()
        for (id, scalars) in folded.enumerated() {
            var state = 0
            for value in scalars {
                let symbol = symbolOf[value] ?? 0  // every pattern scalar is in the alphabet
                if let next = trie.children[state][symbol] {
                    state = Int(next)
                } else {
                    trie.children.append([:])
                    trie.output.append(-1)
                    trie.children[state][symbol] = Int32(trie.children.count - 1)
                    state = trie.children.count - 1
                }
            }
            trie.output[state] = Int32(id)
            trie.lengths.append(Int32(scalars.count))
            var flag: UInt8 = 0
            if asciiWordBoundaries, let first = scalars.first, let last = scalars.last {
                if MultiPatternMatcher.isASCIIAlphanumeric(first) { flag |= 1 }
                if MultiPatternMatcher.isASCIIAlphanumeric(last) { flag |= 2 }
            }
            trie.flags.append(flag)
        }
        return trie
    }

    /// Every state's edges in one array, sorted by symbol, with each state's start; and the root's edges as a
    /// table indexed by symbol.
    private static func compactEdges(_ children: [[UInt16: Int32]], alphabetSize: Int)
        -> (starts: [Int32], symbols: [UInt16], targets: [Int32], root: [Int32])
    {
        let stateCount = children.count
        var starts = [Int32](repeating: 0, count: stateCount + 1)
        var symbols: [UInt16] = []
        var targets: [Int32] = []
        symbols.reserveCapacity(stateCount)
        targets.reserveCapacity(stateCount)
        for state in 0..<stateCount {
            starts[state] = Int32(symbols.count)
            for (symbol, target) in children[state].sorted(by: { $0.key < $1.key }) {
                symbols.append(symbol)
                targets.append(target)
            }
        }
        starts[stateCount] = Int32(symbols.count)
        var root = [Int32](repeating: 0, count: alphabetSize + 1)
        for (symbol, target) in children[0] { root[Int(symbol)] = target }
        return (starts, symbols, targets, root)
    }

    /// Failure and output links, breadth first so a state's failure target is finished before it.
    private static func failureLinks(_ children: [[UInt16: Int32]], output: [Int32]) -> (failure: [Int32], outputLink: [Int32]) {
        let stateCount = children.count
        var fail = [Int32](repeating: 0, count: stateCount)
        var link = [Int32](repeating: -1, count: stateCount)
        var queue: [Int32] = []
        queue.reserveCapacity(stateCount)
        for (_, target) in children[0] { queue.append(target) }
        var head = 0
        while head < queue.count {
            let state = Int(queue[head])
            head += 1
            for (symbol, target) in children[state] {
                var candidate = Int(fail[state])
                var next: Int32 = 0
                while true {
                    if let found = children[candidate][symbol] {
                        next = found
                        break
                    }
                    if candidate == 0 { break }
                    candidate = Int(fail[candidate])
                }
                fail[Int(target)] = next
                link[Int(target)] = output[Int(next)] >= 0 ? next : link[Int(next)]
                queue.append(target)
            }
        }
        return (fail, link)
    }

    /// Length in scalars of pattern `id` (as folded).
    public func patternLength(_ id: Int) -> Int { Int(patternLengths[id]) }

    // MARK: Matching

    /// Calls `body(start, end, pattern)` for every occurrence, overlapping ones included, in order of end position.
    public func forEachOccurrence(
        in text: UnsafeBufferPointer<UInt32>, _ body: (_ start: Int, _ end: Int, _ pattern: Int) -> Void
    ) {
        guard !patterns.isEmpty, !text.isEmpty else { return }
        let checkBoundaries = options.asciiWordBoundaries
        let foldCase = options.foldCase
        bmpSymbols.withUnsafeBufferPointer { bmp in
            rootNext.withUnsafeBufferPointer { root in
                edgeStart.withUnsafeBufferPointer { starts in
                    edgeSymbols.withUnsafeBufferPointer { symbols in
                        edgeTargets.withUnsafeBufferPointer { targets in
                            failure.withUnsafeBufferPointer { fail in
                                outputPattern.withUnsafeBufferPointer { output in
                                    outputLink.withUnsafeBufferPointer { link in
                                        var state: Int32 = 0
                                        for position in 0..<text.count {
                                            let value = text[position]
                                            let symbol = value < 0x10000 ? bmp[Int(value)] : (otherSymbols[value] ?? 0)
                                            if symbol == 0 {
                                                state = 0
                                                continue
                                            }
                                            while true {
                                                if state == 0 {
                                                    state = root[Int(symbol)]
                                                    break
                                                }
                                                let found = Self.edge(
                                                    from: Int(state), symbol: symbol, starts: starts, symbols: symbols,
                                                    targets: targets)
                                                if found >= 0 {
                                                    state = found
                                                    break
                                                }
                                                state = fail[Int(state)]
                                            }
                                            if state == 0 { continue }
                                            var hit = output[Int(state)] >= 0 ? state : link[Int(state)]
                                            while hit >= 0 {
                                                let pattern = Int(output[Int(hit)])
                                                let end = position + 1
                                                let start = end - Int(patternLengths[pattern])
                                                if !checkBoundaries
                                                    || Self.boundariesHold(
                                                        flags: boundaryFlags[pattern], text: text, start: start,
                                                        end: end, foldCase: foldCase)
                                                {
                                                    body(start, end, pattern)
                                                }
                                                hit = link[Int(hit)]
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Appends to `result` the leftmost-longest non-overlapping occurrences (see the type's documentation).
    /// `scratch` is reused between calls to avoid allocating.
    public func leftmostLongest(
        in text: UnsafeBufferPointer<UInt32>, scratch: inout [Int32], into result: inout [Occurrence]
    ) {
        guard !patterns.isEmpty, !text.isEmpty else { return }
        // scratch[2i] = longest length starting at i, scratch[2i+1] = its pattern.
        let needed = 2 * text.count
        if scratch.count < needed { scratch = [Int32](repeating: 0, count: needed) }
        scratch.withUnsafeMutableBufferPointer { longest in
            for index in 0..<needed { longest[index] = 0 }
            var any = false
            forEachOccurrence(in: text) { start, end, pattern in
                let length = Int32(end - start)
                if length > longest[2 * start] {
                    longest[2 * start] = length
                    longest[2 * start + 1] = Int32(pattern)
                }
                any = true
            }
            guard any else { return }
            var position = 0
            while position < text.count {
                let length = Int(longest[2 * position])
                if length > 0 {
                    result.append(
                        Occurrence(start: position, end: position + length, pattern: Int(longest[2 * position + 1])))
                    position += length
                } else {
                    position += 1
                }
            }
        }
    }

    /// Every occurrence in `text` (offsets in scalars).
    public func allOccurrences(in text: String) -> [Occurrence] {
        let scalars = text.unicodeScalars.map(\.value)
        var result: [Occurrence] = []
        scalars.withUnsafeBufferPointer { buffer in
            forEachOccurrence(in: buffer) { result.append(Occurrence(start: $0, end: $1, pattern: $2)) }
        }
        return result
    }

    /// The leftmost-longest non-overlapping occurrences in `text` (offsets in scalars).
    public func leftmostLongest(in text: String) -> [Occurrence] {
        let scalars = text.unicodeScalars.map(\.value)
        var scratch: [Int32] = []
        var result: [Occurrence] = []
        scalars.withUnsafeBufferPointer { leftmostLongest(in: $0, scratch: &scratch, into: &result) }
        return result
    }

    // MARK: Helpers

    @inline(__always)
    private static func edge(
        from state: Int, symbol: UInt16, starts: UnsafeBufferPointer<Int32>, symbols: UnsafeBufferPointer<UInt16>,
        targets: UnsafeBufferPointer<Int32>
    ) -> Int32 {
        var low = Int(starts[state])
        var high = Int(starts[state + 1])
        if high - low <= 8 {
            while low < high {
                let candidate = symbols[low]
                if candidate == symbol { return targets[low] }
                if candidate > symbol { return -1 }
                low += 1
            }
            return -1
        }
        while low < high {
            let middle = (low + high) >> 1
            let candidate = symbols[middle]
            if candidate == symbol { return targets[middle] }
            if candidate < symbol { low = middle + 1 } else { high = middle }
        }
        return -1
    }

    @inline(__always)
    private static func boundariesHold(
        flags: UInt8, text: UnsafeBufferPointer<UInt32>, start: Int, end: Int, foldCase: Bool
    ) -> Bool {
        if flags & 1 != 0, start > 0 {
            let before = foldCase ? fold(text[start - 1]) : text[start - 1]
            if isASCIIAlphanumeric(before) { return false }
        }
        if flags & 2 != 0, end < text.count {
            let after = foldCase ? fold(text[end]) : text[end]
            if isASCIIAlphanumeric(after) { return false }
        }
        return true
    }

    /// ASCII upper case → lower case, full-width ASCII → ASCII, ideographic space → space; all else unchanged.
    @inline(__always)
    public static func fold(_ value: UInt32) -> UInt32 {
        if value < 0x80 {
            return (value >= 0x41 && value <= 0x5A) ? value + 32 : value
        }
        if value >= 0xFF01 && value <= 0xFF5E {
            let ascii = value - 0xFEE0
            return (ascii >= 0x41 && ascii <= 0x5A) ? ascii + 32 : ascii
        }
        if value == 0x3000 { return 0x20 }
        return value
    }

    @inline(__always)
    static func isASCIIAlphanumeric(_ value: UInt32) -> Bool {
        (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
    }
}
