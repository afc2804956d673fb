import ContentHashing
import Foundation

/// Which captions the language rule keeps.
public enum LanguagePolicy: String, Codable, Sendable, CaseIterable {
    /// At least `minimumChineseCharacters` Han characters (the Chinese corpora BriVL trains on).
    case zh
    /// At least `minimumLatinLetters` Latin letters (English corpora).
    case en
    /// No language requirement.
    case any
}

/// Settings of the text rules.
public struct TextRulesConfiguration: Codable, Sendable, Equatable {
    public var language: LanguagePolicy
    public var minimumChineseCharacters: Int
    public var minimumLatinLetters: Int
    /// How lexicon entries are compared with text (case folding, ASCII word boundaries).
    public var matching: MultiPatternMatcher.Options
    /// What replaces a person name.
    public var namePlaceholder: String
    /// What replaces each masked character.
    public var maskCharacter: String

    public init(
        language: LanguagePolicy = .zh, minimumChineseCharacters: Int = 1, minimumLatinLetters: Int = 1,
        matching: MultiPatternMatcher.Options = .init(), namePlaceholder: String = "<人名>", maskCharacter: String = "*"
    ) {
        self.language = language
        self.minimumChineseCharacters = minimumChineseCharacters
        self.minimumLatinLetters = minimumLatinLetters
        self.matching = matching
        self.namePlaceholder = namePlaceholder
        self.maskCharacter = maskCharacter
    }

    enum CodingKeys: String, CodingKey {
        case language
        case minimumChineseCharacters = "minimum_chinese_characters"
        case minimumLatinLetters = "minimum_latin_letters"
        case matching
        case namePlaceholder = "name_placeholder"
        case maskCharacter = "mask_character"
    }
}

/// The lexicons of the text rules; a nil lexicon turns its rule off.
public struct TextLexicons: Sendable {
    public var sensitive: Lexicon?
    public var names: Lexicon?
    public var boilerplate: Lexicon?

    public init(sensitive: Lexicon? = nil, names: Lexicon? = nil, boilerplate: Lexicon? = Lexicon.defaultBoilerplate) {
        self.sensitive = sensitive
        self.names = names
        self.boilerplate = boilerplate
    }
}

/// Why a caption did not survive the text rules.
public enum TextFailure: String, Sendable, Codable {
    /// Nothing but whitespace to begin with.
    case empty
    /// The language rule (too few Chinese characters / Latin letters), judged after boilerplate removal.
    case language
    /// No letter, digit or ideograph left outside masks and name placeholders.
    case emptyAfterCleaning
}

/// What the text rules did to one caption.
public struct CleanedText: Sendable, Equatable {
    public var text: String
    public var failure: TextFailure?
    /// Characters replaced by the mask, and the sensitive-word occurrences that covered them.
    public var maskedCharacters = 0
    public var maskedOccurrences = 0
    public var namesReplaced = 0
    public var boilerplateRemoved = 0
    /// The text differs from the input (any rule, or whitespace tidying).
    public var changed = false
    /// Hash of the normalised cleaned text (see ``TextCleaner``), for dedup.
    public var normalizedHash = ContentHash(high: 0, low: 0)
}

/// The compiled text rules: immutable, shared by all workers.
public final class TextRules: Sendable {
    public let configuration: TextRulesConfiguration
    public let sensitive: MultiPatternMatcher?
    public let names: MultiPatternMatcher?
    public let boilerplate: MultiPatternMatcher?
    /// Identifies configuration and lexicon contents, for the run fingerprint.
    public let fingerprint: ContentHash
    let placeholderScalars: [UInt32]
    let maskScalar: UInt32

    public init(configuration: TextRulesConfiguration = .init(), lexicons: TextLexicons = .init()) throws {
        guard configuration.maskCharacter.unicodeScalars.count == 1 else {
            throw DataError.invalidConfiguration("the mask must be one character, got '\(configuration.maskCharacter)'")
        }
        guard configuration.minimumChineseCharacters >= 0, configuration.minimumLatinLetters >= 0 else {
            throw DataError.invalidConfiguration("minimum character counts cannot be negative")
        }
        self.configuration = configuration
        func build(_ lexicon: Lexicon?) throws -> MultiPatternMatcher? {
            guard let lexicon, !lexicon.entries.isEmpty else { return nil }
            return try MultiPatternMatcher(patterns: lexicon.entries, options: configuration.matching)
        }
        sensitive = try build(lexicons.sensitive)
        names = try build(lexicons.names)
        boilerplate = try build(lexicons.boilerplate)
        placeholderScalars = configuration.namePlaceholder.unicodeScalars.map(\.value)
        maskScalar = configuration.maskCharacter.unicodeScalars.first!.value
        var hasher = StreamingContentHasher(seed: 0x7e47)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        hasher.combine((try? encoder.encode(configuration)) ?? Data())
        for lexicon in [lexicons.sensitive, lexicons.names, lexicons.boilerplate] {
            hasher.combine(lexicon?.fingerprint.description ?? "off")
        }
        fingerprint = hasher.finalize()
    }
}

/// Applies ``TextRules`` to captions. One per thread: it keeps scratch buffers between calls.
///
/// Order of the rules, and why:
/// 1. **Boilerplate** phrases are removed (leftmost-longest occurrences), then brackets left empty and separators left
///    dangling at either end are tidied. First, so page furniture never counts as content or gets masked.
/// 2. **Language**: the remaining text must have enough Chinese characters (or Latin letters, or nothing). A caption
///    that was nothing but boilerplate fails as empty after cleaning instead.
/// 3. **Sensitive words** are masked, one mask character per scalar, over the union of all occurrences (overlapping
///    ones included: with {"ab", "bcd"} all of "abcd" is masked; leftmost-longest alone would leave "cd"). Before
///    names, so a sensitive phrase containing a name is still found whole.
/// 4. **Person names** are replaced by the placeholder (leftmost-longest occurrences, never across a mask).
/// 5. Whitespace runs collapse to one space and the ends are trimmed.
/// 6. **Empty after cleaning**: no letter, digit or ideograph outside masks and placeholders → the caption fails.
///
/// Dedup normalisation: the cleaned text with folding (ASCII case, full-width forms), without whitespace and
/// punctuation, hashed — so "一只猫。" and "一只猫" are the same text, "Cat" and "cat" too.
public final class TextCleaner {
    public let rules: TextRules
    private var input: [UInt32] = []
    private var work: [UInt32] = []
    private var output: [UInt32] = []
    /// Per scalar of `work`: 0 content, 1 masked, 2 inside a name.
    private var marks: [UInt8] = []
    private var scratch: [Int32] = []
    private var occurrences: [MultiPatternMatcher.Occurrence] = []
    private var utf8: [UInt8] = []
    private var normalized: [UInt32] = []

    public init(rules: TextRules) {
        self.rules = rules
    }

    /// Runs the rules in order (see the type's documentation); the first rule that fails ends the caption.
    public func clean(_ text: String) -> CleanedText {
        var result = CleanedText(text: text)
        input.removeAll(keepingCapacity: true)
        TextScalars.appendScalars(of: text, to: &input)
        if input.allSatisfy(TextScalars.isWhitespace) {
            result.failure = .empty
            return result
        }
        result.boilerplateRemoved = removeBoilerplate()
        if !work.contains(where: { !TextScalars.isSeparator($0) }) {
            result.failure = .emptyAfterCleaning
            return result
        }
        guard passesLanguagePolicy() else {
            result.failure = .language
            return result
        }
        (result.maskedOccurrences, result.maskedCharacters) = maskSensitiveWords()
        let (namesReplaced, contentScalars) = replaceNames()
        result.namesReplaced = namesReplaced
        guard contentScalars > 0 else {
            result.failure = .emptyAfterCleaning
            return result
        }
        result.changed = output != input
        if result.changed {
            result.text = output.withUnsafeBufferPointer { TextScalars.string(from: $0, utf8: &utf8) }
        }
        normalized.removeAll(keepingCapacity: true)
        for value in output where !TextScalars.isSeparator(value) { normalized.append(MultiPatternMatcher.fold(value)) }
        result.normalizedHash = normalized.withUnsafeBufferPointer { ContentHash.of($0, seed: 0x7e47) }
        return result
    }

    // MARK: The rules, on the scalar buffers

    /// 1. `input` without its boilerplate into `work`; returns the occurrences removed.
    private func removeBoilerplate() -> Int {
        work.removeAll(keepingCapacity: true)
        guard let boilerplate = rules.boilerplate else {
            work.append(contentsOf: input)
            return 0
        }
        occurrences.removeAll(keepingCapacity: true)
        input.withUnsafeBufferPointer { boilerplate.leftmostLongest(in: $0, scratch: &scratch, into: &occurrences) }
        guard !occurrences.isEmpty else {
            work.append(contentsOf: input)
            return 0
        }
        var position = 0
        for occurrence in occurrences {
            work.append(contentsOf: input[position..<occurrence.start])
            position = occurrence.end
        }
        work.append(contentsOf: input[position...])
        Self.tidyAfterRemoval(&work)
        return occurrences.count
    }

    /// 2. Enough Chinese characters (or Latin letters) in `work`.
    private func passesLanguagePolicy() -> Bool {
        let configuration = rules.configuration
        switch configuration.language {
        case .zh: return Self.hasAtLeast(configuration.minimumChineseCharacters, in: work, where: TextScalars.isHan)
        case .en: return Self.hasAtLeast(configuration.minimumLatinLetters, in: work, where: TextScalars.isLatinLetter)
        case .any: return true
        }
    }

    /// 3. Masks every scalar of every sensitive-word occurrence in `work` (overlaps included) and marks it in
    /// `marks`; returns the occurrences and the scalars masked.
    private func maskSensitiveWords() -> (occurrences: Int, characters: Int) {
        marks.removeAll(keepingCapacity: true)
        marks.append(contentsOf: repeatElement(0, count: work.count))
        guard let sensitive = rules.sensitive else { return (0, 0) }
        occurrences.removeAll(keepingCapacity: true)
        work.withUnsafeBufferPointer { buffer in
            sensitive.forEachOccurrence(in: buffer) { start, end, pattern in
                occurrences.append(.init(start: start, end: end, pattern: pattern))
            }
        }
        guard !occurrences.isEmpty else { return (0, 0) }
        var characters = 0
        for occurrence in occurrences {
            for index in occurrence.start..<occurrence.end where marks[index] == 0 {
                marks[index] = 1
                characters += 1
            }
        }
        let mask = rules.maskScalar
        for index in 0..<work.count where marks[index] == 1 { work[index] = mask }
        return (occurrences.count, characters)
    }

    /// 4. and 5. `work` into `output` with names replaced by the placeholder (the mask character never occurs in a
    /// name, so no name spans a mask), whitespace collapsed and trimmed. Returns the names replaced and the content
    /// scalars left outside masks and names (6.: none means empty after cleaning).
    private func replaceNames() -> (names: Int, contentScalars: Int) {
        occurrences.removeAll(keepingCapacity: true)
        if let names = rules.names {
            work.withUnsafeBufferPointer { names.leftmostLongest(in: $0, scratch: &scratch, into: &occurrences) }
        }
        output.removeAll(keepingCapacity: true)
        var contentScalars = 0
        func countContent(_ range: Range<Int>) {
            for index in range where marks[index] == 0 && !TextScalars.isSeparator(work[index]) { contentScalars += 1 }
        }
        var position = 0
        for occurrence in occurrences {
            countContent(position..<occurrence.start)
            Self.appendCollapsingWhitespace(work[position..<occurrence.start], to: &output)
            output.append(contentsOf: rules.placeholderScalars)
            position = occurrence.end
        }
        countContent(position..<work.count)
        Self.appendCollapsingWhitespace(work[position...], to: &output)
        // Runs are already collapsed; a leading space may remain.
        while let last = output.last, last == 0x20 { output.removeLast() }
        if output.first == 0x20 { output.removeFirst() }
        return (occurrences.count, contentScalars)
    }

    private static func hasAtLeast(_ count: Int, in text: [UInt32], where predicate: (UInt32) -> Bool) -> Bool {
        if count <= 0 { return true }
        var found = 0
        for value in text where predicate(value) {
            found += 1
            if found >= count { return true }
        }
        return false
    }

    private static func appendCollapsingWhitespace(_ slice: ArraySlice<UInt32>, to output: inout [UInt32]) {
        for value in slice {
            if TextScalars.isWhitespace(value) {
                if output.last != 0x20 { output.append(0x20) }
            } else {
                output.append(value)
            }
        }
    }

    /// Joiners that hang at an end once boilerplate next to them is gone.
    private static func isDanglingJoiner(_ value: UInt32) -> Bool {
        switch value {
        case 0x2C, 0x3A, 0x3B, 0x7C, 0x2D, 0x3E, 0xB7, 0x2022, 0x2013, 0x2014, 0x2026, 0x3001, 0xFF0C, 0xFF1A, 0xFF1B,
            0xFF5C, 0x300B, 0xBB, 0x203A, 0x2192:
            return true
        default:
            return TextScalars.isWhitespace(value)
        }
    }

    /// Removes bracket pairs left empty ("【】", "()") and joiners dangling at either end.
    private static func tidyAfterRemoval(_ text: inout [UInt32]) {
        let pairs: [(UInt32, UInt32)] = [
            (0x3010, 0x3011), (0x28, 0x29), (0xFF08, 0xFF09), (0x5B, 0x5D), (0x300C, 0x300D), (0x300A, 0x300B),
            (0xFF3B, 0xFF3D), (0x7B, 0x7D),
        ]
        var changed = true
        while changed {
            changed = false
            var index = 0
            var result: [UInt32] = []
            result.reserveCapacity(text.count)
            while index < text.count {
                if index + 1 < text.count, pairs.contains(where: { $0.0 == text[index] && $0.1 == text[index + 1] }) {
                    index += 2
                    changed = true
                    continue
                }
                result.append(text[index])
                index += 1
            }
            text = result
        }
        while let last = text.last, isDanglingJoiner(last) { text.removeLast() }
        var start = 0
        while start < text.count && isDanglingJoiner(text[start]) { start += 1 }
        if start > 0 { text.removeFirst(start) }
    }
}
