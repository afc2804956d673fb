import Foundation

/// Per-scalar facts the basic tokenizer needs, as bit flags, computed once per process from the standard library's
/// Unicode properties (and Foundation's canonical decomposition).
///
/// The hot path reads one byte per scalar from a table (the BMP eagerly, planes 1–2 on first use); scalars above
/// U+2FFFF, which are rare in text, are classified on the fly.
enum CharacterTable {
    /// Removed by text cleaning: U+0000, U+FFFD, and control/format characters (Cc, Cf) other than tab, LF, CR.
    static let drop: UInt8 = 1 << 0
    /// Separates words: space, tab, LF, CR, any Zs, and U+2028/U+2029 (Python's `str.split()` splits on them too).
    static let space: UInt8 = 1 << 1
    /// A CJK ideograph of BERT's ranges: becomes a word of its own.
    static let chinese: UInt8 = 1 << 2
    /// ASCII 33–47, 58–64, 91–96, 123–126, or any Unicode P* category: split off as a word of its own.
    static let punctuation: UInt8 = 1 << 3
    /// Lower-casing changes the scalar (full mapping, e.g. U+0130 → "i̇"), or it is U+03A3 (context-dependent).
    static let changesWhenLowercased: UInt8 = 1 << 4
    /// Accent stripping changes or drops it: it has a canonical decomposition, a non-zero combining class, or is Mn.
    static let changesWhenAccentsStripped: UInt8 = 1 << 5

    /// Flags of a scalar value (which must be a valid scalar: the tokenizer only reads valid UTF-8).
    @inline(__always)
    static func flags(_ value: UInt32) -> UInt8 {
        if value < 0x1_0000 { return basic[Int(value)] }
        if value < 0x3_0000 { return supplementary[Int(value - 0x1_0000)] }
        return computeFlags(value)
    }

    /// The Basic Multilingual Plane.
    static let basic: [UInt8] = (0..<0x1_0000).map { computeFlags(UInt32($0)) }
    /// Planes 1 and 2 (emoji, historic scripts, CJK extensions B–F).
    static let supplementary: [UInt8] = (0x1_0000..<0x3_0000).map { computeFlags(UInt32($0)) }

    /// Whether a scalar lies in one of the CJK ideograph ranges BERT isolates (unified ideographs, extension A,
    /// extensions B–F as BERT lists them, and the compatibility ideographs).
    static func isChineseCharacter(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x2_0000...0x2_A6DF, 0x2_A700...0x2_B73F, 0x2_B740...0x2_B81F,
            0x2_B820...0x2_CEAF, 0xF900...0xFAFF, 0x2_F800...0x2_FA1F:
            return true
        default:
            return false
        }
    }

    static func isASCIIPunctuation(_ value: UInt32) -> Bool {
        (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
            || (123...126).contains(value)
    }

    static func isPunctuationCategory(_ category: Unicode.GeneralCategory) -> Bool {
        switch category {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    static func computeFlags(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }  // surrogate code points: never in a String
        let properties = scalar.properties
        let category = properties.generalCategory
        var flags: UInt8 = 0
        let isTabOrNewline = value == 0x09 || value == 0x0A || value == 0x0D
        if value == 0 || value == 0xFFFD || (!isTabOrNewline && (category == .control || category == .format)) {
            flags |= drop
        } else if value == 0x20 || isTabOrNewline || category == .spaceSeparator || value == 0x2028
            || value == 0x2029
        {
            flags |= space
        }
        if isChineseCharacter(value) { flags |= chinese }
        if isASCIIPunctuation(value) || isPunctuationCategory(category) { flags |= punctuation }
        if value >= 0x80 {
            let lower = properties.lowercaseMapping.unicodeScalars
            if value == 0x3A3 || lower.count != 1 || lower.first != scalar { flags |= changesWhenLowercased }
            if category == .nonspacingMark || properties.canonicalCombiningClass != .notReordered
                || canonicalDecomposition(value) != nil
            {
                flags |= changesWhenAccentsStripped
            }
        } else if (0x41...0x5A).contains(value) {
            flags |= changesWhenLowercased
        }
        return flags
    }

    // MARK: - Canonical decomposition

    /// The full canonical decomposition (NFD) of a scalar, or nil when it is its own decomposition.
    static func canonicalDecomposition(_ value: UInt32) -> [UInt32]? {
        if value < 0xC0 { return nil }
        if let hangul = hangulDecomposition(value) { return hangul }
        // Ranges known to hold no decomposable scalar: the unified ideographs and their extensions.
        if (0x3400...0x4DBF).contains(value) || (0x4E00...0x9FFF).contains(value)
            || (0x2_0000...0x2_F7FF).contains(value)
        {
            return nil
        }
        // No scalar from U+30000 up (CJK extensions G–H, tags, variation selectors, private use) decomposes.
        return value < 0x3_0000 ? decompositions[value] : nil
    }

    /// Decompositions of every decomposable scalar below U+30000 (about two thousand), other than Hangul syllables.
    /// Foundation decomposes them all in one call: each candidate is followed by U+0001, a starter that no
    /// decomposition contains and across which canonical reordering never moves anything, so the result splits back.
    static let decompositions: [UInt32: [UInt32]] = {
        var candidates: [UInt32] = []
        var text = String.UnicodeScalarView()
        for value in UInt32(0xC0)..<0x3_0000 {
            if (0x3400...0x4DBF).contains(value) || (0x4E00...0x9FFF).contains(value)
                || (0xAC00...0xD7A3).contains(value) || (0x2_0000...0x2_F7FF).contains(value)
            {
                continue
            }
            guard let scalar = Unicode.Scalar(value) else { continue }
            candidates.append(value)
            text.append(scalar)
            text.append(Unicode.Scalar(0x01))
        }
        let decomposed = String(text).decomposedStringWithCanonicalMapping.unicodeScalars
        var table: [UInt32: [UInt32]] = [:]
        var index = 0
        var current: [UInt32] = []
        for scalar in decomposed {
            if scalar.value == 0x01 {
                if current != [candidates[index]] { table[candidates[index]] = current }
                index += 1
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(scalar.value)
            }
        }
        precondition(index == candidates.count, "canonical decomposition changed the number of separators")
        return table
    }()

    /// Hangul syllables decompose algorithmically into two or three conjoining jamo.
    static func hangulDecomposition(_ value: UInt32) -> [UInt32]? {
        let syllableBase: UInt32 = 0xAC00
        let syllableCount: UInt32 = 11_172
        guard value >= syllableBase, value < syllableBase + syllableCount else { return nil }
        let index = value - syllableBase
        let leading = 0x1100 + index / 588
        let vowel = 0x1161 + (index % 588) / 28
        let trailing = index % 28
        return trailing == 0 ? [leading, vowel] : [leading, vowel, 0x11A7 + trailing]
    }

    // MARK: - Slow-path properties

    static func isNonspacingMark(_ value: UInt32) -> Bool {
        Unicode.Scalar(value)?.properties.generalCategory == .nonspacingMark
    }

    static func combiningClass(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return scalar.properties.canonicalCombiningClass.rawValue
    }

    static func isCased(_ value: UInt32) -> Bool { Unicode.Scalar(value)?.properties.isCased ?? false }

    static func isCaseIgnorable(_ value: UInt32) -> Bool {
        Unicode.Scalar(value)?.properties.isCaseIgnorable ?? false
    }

    /// The full lower-case mapping of a scalar other than U+03A3 (whose mapping depends on its context).
    static func lowercaseMapping(_ value: UInt32) -> [UInt32] {
        if value < 0x80 { return [(0x41...0x5A).contains(value) ? value + 0x20 : value] }
        guard let scalar = Unicode.Scalar(value) else { return [value] }
        return scalar.properties.lowercaseMapping.unicodeScalars.map(\.value)
    }
}
