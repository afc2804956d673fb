import Foundation

/// The text normalisation in front of CLIP's BPE (OpenCLIP's `_clean_lower`): ftfy's `fix_text`, HTML unescaping
/// twice, runs of whitespace to one space, trimming, lower-casing (as Python's, final sigma included).
///
/// ftfy's fixes are reproduced as its default configuration applies them, per line and until nothing changes:
/// HTML entities (skipped on lines from the first one holding `<` on), C1 controls read as Windows-1252, Latin
/// ligatures and digraphs split, fullwidth and halfwidth forms to their usual width (U+3000 to a space), curly
/// quotes straightened, line breaks unified, terminal escapes and control characters removed, NFC.
///
/// Not reproduced: ftfy's mojibake repair (re-decoding text its badness heuristic flags as mis-decoded UTF-8) and
/// the HTML5 entity names outside ``HTMLEntities``; text that needs either is tokenised as if it were clean.
public enum CLIPTextCleaning {
    public static func clean(_ text: String) -> String {
        let fixed = fixText(text)
        let unescaped = HTMLEntities.unescape(HTMLEntities.unescape(fixed))
        return lowercased(collapseWhitespace(unescaped))
    }

    /// Python's `str.lower()`: each scalar's full lower-case mapping, and capital sigma as final sigma (ς) when a
    /// cased letter precedes it and none follows (case-ignorable scalars skipped both ways), where Swift's
    /// `lowercased()` always gives σ.
    static func lowercased(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            guard scalar == "\u{3A3}" else {
                output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                continue
            }
            func casedNeighbour(_ indices: some Sequence<Int>) -> Bool {
                for neighbour in indices where !scalars[neighbour].properties.isCaseIgnorable {
                    return scalars[neighbour].properties.isCased
                }
                return false
            }
            let final = casedNeighbour((0..<index).reversed()) && !casedNeighbour((index + 1)..<scalars.count)
            output.append(final ? "\u{3C2}" : "\u{3C3}")
        }
        return String(output)
    }

    // MARK: - ftfy

    /// ftfy's `fix_text` with its defaults, less the mojibake repair.
    static func fixText(_ text: String) -> String {
        var unescapesEntities = true
        var output = ""
        for line in lines(of: text) {
            if line.unicodeScalars.contains("<") { unescapesEntities = false }
            var current = line
            while true {
                let next = fixOnce(current, unescapesEntities: unescapesEntities)
                if next.unicodeScalars.elementsEqual(current.unicodeScalars) { break }
                current = next
            }
            output += current
        }
        return output
    }

    /// Segments ending after each "\n" (the last one may not end with one).
    private static func lines(of text: String) -> [String] {
        var segments: [String] = []
        var segment = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            segment.append(scalar)
            if scalar == "\n" {
                segments.append(String(segment))
                segment = String.UnicodeScalarView()
            }
        }
        if !segment.isEmpty { segments.append(String(segment)) }
        return segments
    }

    private static func fixOnce(_ text: String, unescapesEntities: Bool) -> String {
        var text = unescapesEntities ? HTMLEntities.unescapeTerminated(text) : text
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            // C1 controls as Windows-1252, then ligatures, widths and quotes: one scalar to its replacement.
            let value = scalar.value
            if (0x80...0x9F).contains(value), let windows = windows1252[value] {
                scalars.append(windows)
            } else if let ligature = ligatures[value] {
                scalars.append(contentsOf: ligature.unicodeScalars)
            } else if value == 0x3000 {
                scalars.append(" ")
            } else if (0xFF01...0xFFEF).contains(value) {
                scalars.append(contentsOf: String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars)
            } else if value == 0x02BC || (0x2018...0x201B).contains(value) {
                scalars.append("'")
            } else if (0x201C...0x201F).contains(value) {
                scalars.append("\"")
            } else {
                scalars.append(scalar)
            }
        }
        text = unifyLineBreaks(String(scalars))
        text = removeTerminalEscapes(text)
        text = String(String.UnicodeScalarView(text.unicodeScalars.filter { !isRemovedControl($0.value) }))
        return text.precomposedStringWithCanonicalMapping
    }

    /// "\r\n", "\r", U+2028, U+2029 and U+0085 each become "\n".
    private static func unifyLineBreaks(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var previousWasReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n", previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = scalar == "\r"
            switch scalar.value {
            case 0x0D, 0x2028, 0x2029, 0x85: scalars.append("\n")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// ANSI escapes: ESC, "[", digits and semicolons, one ASCII letter.
    private static func removeTerminalEscapes(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.contains("\u{1B}") else { return text }
        var kept = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\u{1B}", index + 1 < scalars.count, scalars[index + 1] == "[" {
                var end = index + 2
                while end < scalars.count, scalars[end] == ";" || scalars[end].properties.numericType == .decimal {
                    end += 1
                }
                if end < scalars.count, scalars[end].isASCII, scalars[end].properties.isAlphabetic {
                    index = end + 1
                    continue
                }
            }
            kept.append(scalars[index])
            index += 1
        }
        return String(kept)
    }

    /// ftfy's `remove_control_chars` set.
    private static func isRemovedControl(_ value: UInt32) -> Bool {
        switch value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: true
        default: false
        }
    }

    /// The Windows-1252 character of a byte in 0x80–0x9F (nil for the five it leaves undefined).
    static func windows1252Scalar(_ value: UInt32) -> Unicode.Scalar? { windows1252[value] }

    /// Windows-1252 at 0x80–0x9F; the five bytes it leaves undefined stay as they are.
    private static let windows1252: [UInt32: Unicode.Scalar] = [
        0x80: "\u{20AC}", 0x82: "\u{201A}", 0x83: "\u{0192}", 0x84: "\u{201E}", 0x85: "\u{2026}", 0x86: "\u{2020}",
        0x87: "\u{2021}", 0x88: "\u{02C6}", 0x89: "\u{2030}", 0x8A: "\u{0160}", 0x8B: "\u{2039}", 0x8C: "\u{0152}",
        0x8E: "\u{017D}", 0x91: "\u{2018}", 0x92: "\u{2019}", 0x93: "\u{201C}", 0x94: "\u{201D}", 0x95: "\u{2022}",
        0x96: "\u{2013}", 0x97: "\u{2014}", 0x98: "\u{02DC}", 0x99: "\u{2122}", 0x9A: "\u{0161}", 0x9B: "\u{203A}",
        0x9C: "\u{0153}", 0x9E: "\u{017E}", 0x9F: "\u{0178}",
    ]

    /// Latin ligatures and legacy digraphs, split.
    private static let ligatures: [UInt32: String] = [
        0x0132: "IJ", 0x0133: "ij", 0x0149: "\u{02BC}n", 0x01F1: "DZ", 0x01F2: "Dz", 0x01F3: "dz", 0x01C4: "D\u{017D}",
        0x01C5: "D\u{017E}", 0x01C6: "d\u{017E}", 0x01C7: "LJ", 0x01C8: "Lj", 0x01C9: "lj", 0x01CA: "NJ", 0x01CB: "Nj",
        0x01CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u{017F}t",
        0xFB06: "st",
    ]

    // MARK: - Whitespace

    /// Python's `\s` (Unicode whitespace, and the information separators U+001C–U+001F).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Runs of whitespace become one space, and the ends are trimmed.
    static func collapseWhitespace(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if isWhitespace(scalar) {
                pendingSpace = !scalars.isEmpty
                continue
            }
            if pendingSpace { scalars.append(" ") }
            pendingSpace = false
            scalars.append(scalar)
        }
        return String(scalars)
    }
}
