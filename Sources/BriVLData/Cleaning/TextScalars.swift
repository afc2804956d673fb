import Foundation

/// Character classes and conversions the text rules use, on Unicode scalar values.
public enum TextScalars {
    /// A Han ideograph: CJK Unified Ideographs and their extensions A–H, and the compatibility ideographs.
    @inline(__always)
    public static func isHan(_ value: UInt32) -> Bool {
        (value >= 0x4E00 && value <= 0x9FFF) || (value >= 0x3400 && value <= 0x4DBF)
            || (value >= 0x20000 && value <= 0x323AF) || (value >= 0xF900 && value <= 0xFAFF)
            || (value >= 0x2F800 && value <= 0x2FA1F)
    }

    /// A basic Latin letter, half- or full-width.
    @inline(__always)
    public static func isLatinLetter(_ value: UInt32) -> Bool {
        let folded = MultiPatternMatcher.fold(value)
        return folded >= 0x61 && folded <= 0x7A
    }

    @inline(__always)
    public static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
            return true
        default:
            return false
        }
    }

    /// Punctuation and symbols that separate phrases (ASCII, general and CJK punctuation, full-width forms).
    @inline(__always)
    public static func isPunctuation(_ value: UInt32) -> Bool {
        switch value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        case 0xA1...0xBF, 0xD7, 0xF7: return true
        case 0x2010...0x2027, 0x2030...0x205E: return true
        case 0x3001...0x3003, 0x3008...0x3011, 0x3014...0x301F, 0x30FB: return true
        case 0xFE10...0xFE1F, 0xFE30...0xFE4F, 0xFE50...0xFE6B: return true
        case 0xFF01...0xFF0F, 0xFF1A...0xFF20, 0xFF3B...0xFF40, 0xFF5B...0xFF65: return true
        default: return false
        }
    }

    /// Whitespace or punctuation: what may stand on either side of a detached phrase.
    @inline(__always)
    public static func isSeparator(_ value: UInt32) -> Bool {
        isWhitespace(value) || isPunctuation(value)
    }

    /// Appends the scalars of `string` (decoded from its UTF-8 storage, which Swift keeps valid).
    public static func appendScalars(of string: String, to buffer: inout [UInt32]) {
        var copy = string
        copy.withUTF8 { bytes in
            var index = 0
            let count = bytes.count
            while index < count {
                let lead = UInt32(bytes[index])
                if lead < 0x80 {
                    buffer.append(lead)
                    index += 1
                } else if lead < 0xE0 {
                    buffer.append((lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F))
                    index += 2
                } else if lead < 0xF0 {
                    buffer.append(
                        (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F))
                    index += 3
                } else {
                    buffer.append(
                        (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                            | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F))
                    index += 4
                }
            }
        }
    }

    /// The string of valid scalar values (callers only pass values that came from strings, or ASCII/Han literals).
    public static func string(from scalars: UnsafeBufferPointer<UInt32>, utf8 buffer: inout [UInt8]) -> String {
        buffer.removeAll(keepingCapacity: true)
        for value in scalars {
            if value < 0x80 {
                buffer.append(UInt8(value))
            } else if value < 0x800 {
                buffer.append(UInt8(0xC0 | (value >> 6)))
                buffer.append(UInt8(0x80 | (value & 0x3F)))
            } else if value < 0x10000 {
                buffer.append(UInt8(0xE0 | (value >> 12)))
                buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
                buffer.append(UInt8(0x80 | (value & 0x3F)))
            } else {
                buffer.append(UInt8(0xF0 | (value >> 18)))
                buffer.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
                buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
                buffer.append(UInt8(0x80 | (value & 0x3F)))
            }
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    public static func string(from scalars: [UInt32]) -> String {
        var bytes: [UInt8] = []
        return scalars.withUnsafeBufferPointer { string(from: $0, utf8: &bytes) }
    }
}
