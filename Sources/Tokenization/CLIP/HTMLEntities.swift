/// HTML character references as Python decodes them: `html.unescape` (CLIP's cleaning runs it twice) and ftfy's
/// stricter `unescape_html` (only references ending in ";", plus all-caps Latin names such as `&EACUTE;`).
///
/// Named references cover HTML 4's 252 names and `&apos;` (HTML5 gives them the same characters); numeric ones
/// follow the HTML5 rules Python implements (Windows-1252 for 0x80–0x9F, U+FFFD for NUL, surrogates and values
/// past U+10FFFF, nothing for non-characters and most controls).
enum HTMLEntities {
    /// Name (without "&" and ";") → character.
    static let named: [String: String] = {
        var table: [String: String] = [
            "quot": "\"", "amp": "&", "lt": "<", "gt": ">", "apos": "'", "OElig": "\u{152}", "oelig": "\u{153}",
            "Scaron": "\u{160}", "scaron": "\u{161}", "Yuml": "\u{178}", "circ": "\u{2C6}", "tilde": "\u{2DC}",
            "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}", "zwnj": "\u{200C}", "zwj": "\u{200D}",
            "lrm": "\u{200E}", "rlm": "\u{200F}", "ndash": "\u{2013}", "mdash": "\u{2014}", "lsquo": "\u{2018}",
            "rsquo": "\u{2019}", "sbquo": "\u{201A}", "ldquo": "\u{201C}", "rdquo": "\u{201D}", "bdquo": "\u{201E}",
            "dagger": "\u{2020}", "Dagger": "\u{2021}", "permil": "\u{2030}", "lsaquo": "\u{2039}",
            "rsaquo": "\u{203A}", "euro": "\u{20AC}", "fnof": "\u{192}", "bull": "\u{2022}", "hellip": "\u{2026}",
            "prime": "\u{2032}", "Prime": "\u{2033}", "oline": "\u{203E}", "frasl": "\u{2044}", "weierp": "\u{2118}",
            "image": "\u{2111}", "real": "\u{211C}", "trade": "\u{2122}", "alefsym": "\u{2135}", "larr": "\u{2190}",
            "uarr": "\u{2191}", "rarr": "\u{2192}", "darr": "\u{2193}", "harr": "\u{2194}", "crarr": "\u{21B5}",
            "lArr": "\u{21D0}", "uArr": "\u{21D1}", "rArr": "\u{21D2}", "dArr": "\u{21D3}", "hArr": "\u{21D4}",
            "forall": "\u{2200}", "part": "\u{2202}", "exist": "\u{2203}", "empty": "\u{2205}", "nabla": "\u{2207}",
            "isin": "\u{2208}", "notin": "\u{2209}", "ni": "\u{220B}", "prod": "\u{220F}", "sum": "\u{2211}",
            "minus": "\u{2212}", "lowast": "\u{2217}", "radic": "\u{221A}", "prop": "\u{221D}", "infin": "\u{221E}",
            "ang": "\u{2220}", "and": "\u{2227}", "or": "\u{2228}", "cap": "\u{2229}", "cup": "\u{222A}",
            "int": "\u{222B}", "there4": "\u{2234}", "sim": "\u{223C}", "cong": "\u{2245}", "asymp": "\u{2248}",
            "ne": "\u{2260}", "equiv": "\u{2261}", "le": "\u{2264}", "ge": "\u{2265}", "sub": "\u{2282}",
            "sup": "\u{2283}", "nsub": "\u{2284}", "sube": "\u{2286}", "supe": "\u{2287}", "oplus": "\u{2295}",
            "otimes": "\u{2297}", "perp": "\u{22A5}", "sdot": "\u{22C5}", "lceil": "\u{2308}", "rceil": "\u{2309}",
            "lfloor": "\u{230A}", "rfloor": "\u{230B}", "loz": "\u{25CA}", "spades": "\u{2660}", "clubs": "\u{2663}",
            "hearts": "\u{2665}", "diams": "\u{2666}", "thetasym": "\u{3D1}", "upsih": "\u{3D2}", "piv": "\u{3D6}",
        ]
        for (offset, name) in latin1.enumerated() { table[name] = String(Unicode.Scalar(UInt8(160 + offset))) }
        let greek = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
                     "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau", "upsilon", "phi", "chi", "psi",
                     "omega"]
        for (offset, name) in greek.enumerated() {
            table[name] = String(Unicode.Scalar(0x3B1 + UInt32(offset))!)
            if name != "sigmaf" {
                table[name.prefix(1).uppercased() + name.dropFirst()] = String(Unicode.Scalar(0x391 + UInt32(offset))!)
            }
        }
        return table
    }()

    /// U+00A0…U+00FF in order.
    private static let latin1 = [
        "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo", "not",
        "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot", "cedil", "sup1",
        "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring",
        "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde",
        "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml",
        "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil", "egrave",
        "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc",
        "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
    ]

    /// The names HTML5 also decodes without a ";" (the Latin-1 ones, the four markup ones, and six in capitals).
    static let legacy: Set<String> = Set(latin1 + ["amp", "lt", "gt", "quot", "AMP", "LT", "GT", "QUOT", "COPY", "REG"])

    /// What HTML5 names in capitals, with the characters of the lower-case names.
    private static let capitalAliases: [String: String] = ["AMP": "&", "LT": "<", "GT": ">", "QUOT": "\"", "COPY": "\u{A9}", "REG": "\u{AE}"]

    /// ftfy's all-caps extension: the capitals of each lower-case name, where they mean nothing else.
    private static let capitals: [String: String] = {
        var table: [String: String] = [:]
        for (name, character) in named where name == name.lowercased() {
            let upper = name.uppercased()
            guard named[upper] == nil, capitalAliases[upper] == nil, !startsWithLegacyName("&" + upper + ";") else {
                continue
            }
            table[upper] = character.uppercased()
        }
        return table
    }()

    /// Whether `html.unescape` would change `reference` ("&NAME;") through a legacy name that prefixes it.
    private static func startsWithLegacyName(_ reference: String) -> Bool {
        let name = Array(reference.dropFirst())
        guard name.count > 2 else { return false }
        return (2..<name.count).contains { legacy.contains(String(name[0..<$0])) }
    }

    // MARK: - Numeric references

    /// The character of `&#value;` (nil when the reference is to be dropped).
    static func character(codePoint value: UInt64) -> String? {
        switch value {
        case 0: return "\u{FFFD}"
        case 0x0D: return "\r"
        case 0x80...0x9F:
            let scalar = CLIPTextCleaning.windows1252Scalar(UInt32(value)) ?? Unicode.Scalar(UInt8(value))
            return String(scalar)
        case 0xD800...0xDFFF: return "\u{FFFD}"
        case 0x110000...: return "\u{FFFD}"
        case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0xFDD0...0xFDEF: return nil
        default:
            if value & 0xFFFE == 0xFFFE { return nil }
            return Unicode.Scalar(UInt32(value)).map { String($0) }
        }
    }

    /// Parses the digits after "&#" ("x"/"X" then hex, or decimal) from `scalars[start...]`: the value (saturated
    /// past U+10FFFF) and the index after the digits, or nil when there are none.
    private static func numericReference(_ scalars: [Unicode.Scalar], from start: Int) -> (UInt64, Int)? {
        var index = start
        var radix: UInt64 = 10
        if index < scalars.count, scalars[index] == "x" || scalars[index] == "X" {
            radix = 16
            index += 1
        }
        var value: UInt64 = 0
        let digitsStart = index
        while index < scalars.count, scalars[index].isASCII,
            let digit = Character(scalars[index]).hexDigitValue, radix == 16 || digit < 10
        {
            value = min(value * radix + UInt64(digit), 0x110000)
            index += 1
        }
        return index > digitsStart ? (value, index) : nil
    }

    // MARK: - Unescaping

    /// Copies `text`, letting `reference` rewrite what starts at each "&" of its scalars: the replacement and the
    /// index after the reference, or nil to keep the "&" as it is.
    private static func rewritingReferences(
        _ text: String, _ reference: (_ scalars: [Unicode.Scalar], _ ampersand: Int) -> (String, Int)?
    ) -> String {
        guard text.unicodeScalars.contains("&") else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "&", let (replacement, end) = reference(scalars, index) {
                output.append(contentsOf: replacement.unicodeScalars)
                index = end
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        return String(output)
    }

    /// Python's `html.unescape`.
    static func unescape(_ text: String) -> String {
        rewritingReferences(text) { scalars, index in
            if index + 1 < scalars.count, scalars[index + 1] == "#" {
                guard let (value, end) = numericReference(scalars, from: index + 2) else { return nil }
                return (character(codePoint: value) ?? "", end < scalars.count && scalars[end] == ";" ? end + 1 : end)
            }
            // A name: up to 32 characters other than tab, newline, form feed, space, "<", "&", "#" and ";".
            var end = index + 1
            while end < scalars.count, end - index - 1 < 32, !"\t\n\u{0C} <&#;".unicodeScalars.contains(scalars[end]) {
                end += 1
            }
            let nameScalars = Array(scalars[(index + 1)..<end])
            let name = String(String.UnicodeScalarView(nameScalars))
            let terminated = end < scalars.count && scalars[end] == ";"
            if terminated, let character = named[name] ?? capitalAliases[name] { return (character, end + 1) }
            if legacy.contains(name), let character = named[name] ?? capitalAliases[name] { return (character, end) }
            // The longest legacy name that prefixes it (at least two characters, and shorter than the whole).
            let withSemicolon = nameScalars.count + (terminated ? 1 : 0)
            for length in stride(from: min(withSemicolon - 1, nameScalars.count), to: 1, by: -1) {
                let prefix = String(String.UnicodeScalarView(nameScalars[0..<length]))
                if legacy.contains(prefix), let character = named[prefix] ?? capitalAliases[prefix] {
                    return (character, index + 1 + length)
                }
            }
            return nil
        }
    }

    /// ftfy's `unescape_html`: only `&#?[0-9A-Za-z]{1,24};`, named (with the all-caps extension) or numeric.
    static func unescapeTerminated(_ text: String) -> String {
        rewritingReferences(text) { scalars, index in
            let numeric = index + 1 < scalars.count && scalars[index + 1] == "#"
            let bodyStart = index + (numeric ? 2 : 1)
            var end = bodyStart
            while end < scalars.count, end - bodyStart < 24, scalars[end].isASCII,
                scalars[end].properties.isAlphabetic || scalars[end].properties.numericType == .decimal
            {
                end += 1
            }
            guard end > bodyStart, end < scalars.count, scalars[end] == ";" else { return nil }
            if numeric {
                // As Python's html.unescape of the reference alone, kept when that leaves a ";".
                guard let (value, digitsEnd) = numericReference(scalars, from: bodyStart), digitsEnd == end else {
                    return (String(String.UnicodeScalarView(scalars[index...end])), end + 1)
                }
                return (character(codePoint: value) ?? "", end + 1)
            }
            let body = String(String.UnicodeScalarView(scalars[bodyStart..<end]))
            let replacement = named[body] ?? capitalAliases[body] ?? capitals[body]
            return (replacement ?? String(String.UnicodeScalarView(scalars[index...end])), end + 1)
        }
    }
}
