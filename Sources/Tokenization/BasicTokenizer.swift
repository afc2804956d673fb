import Foundation

/// BERT's basic tokenisation on its own: cleaning, CJK isolation, lower-casing, accent stripping and punctuation
/// splitting (the steps listed on `BertTokenizer`), without a vocabulary. Only the configuration's `lowercase`,
/// `stripAccents` and `tokenizeChineseCharacters` matter here.
public struct BasicTokenizer: Sendable {
    public let configuration: BertTokenizerConfiguration
    /// Flag bits whose presence sends a piece through the normalising slow path.
    private let changeMask: UInt8
    /// CharacterTable.basic, held here so that the hot loop reads it without a lazy-global check per scalar.
    private let basicFlags: [UInt8]

    public init(configuration: BertTokenizerConfiguration = BertTokenizerConfiguration()) {
        self.configuration = configuration
        var mask: UInt8 = 0
        if configuration.lowercase { mask |= CharacterTable.changesWhenLowercased }
        if configuration.stripsAccents { mask |= CharacterTable.changesWhenAccentsStripped }
        changeMask = mask
        basicFlags = CharacterTable.basic
    }

    /// The words of `text`.
    public func tokenize(_ text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: text) { bytes, _ in
            words.append(String(decoding: bytes, as: UTF8.self))
            return true
        }
        return words
    }

    /// Calls `body` with the UTF-8 bytes and the scalar count of each word of the basic tokenisation, in order, until
    /// it returns false.
    func forEachWord(in text: String, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Bool) {
        var text = text
        text.withUTF8 { input in
            basicFlags.withUnsafeBufferPointer { table in
                forEachWord(in: input, flags: FlagLookup(basic: table), body)
            }
        }
    }

    private func forEachWord(
        in input: UnsafeBufferPointer<UInt8>, flags lookup: FlagLookup,
        _ body: (UnsafeBufferPointer<UInt8>, Int) -> Bool
    ) {
        var scratch = Scratch()
        let isolateChinese = configuration.tokenizeChineseCharacters
        let changeMask = changeMask
        var tokenStart = -1  // byte offset of the current space-delimited piece, or -1
        var tokenNeedsNormalising = false
        var tokenIsASCII = true
        var position = 0
        let count = input.count
        while position < count {
            let (value, length) = Self.decodeScalar(input, at: position)
            let flags = lookup(value)
            if flags & CharacterTable.drop != 0 {
                // Cleaning removes it; inside a piece the bytes are no longer contiguous.
                if tokenStart >= 0 {
                    tokenNeedsNormalising = true
                    if value >= 0x80 { tokenIsASCII = false }
                }
            } else if flags & CharacterTable.space != 0
                || (isolateChinese && flags & CharacterTable.chinese != 0)
            {
                if tokenStart >= 0 {
                    guard
                        processPiece(
                            input, tokenStart..<position, normalising: tokenNeedsNormalising,
                            isASCII: tokenIsASCII, lookup, &scratch, body)
                    else { return }
                    tokenStart = -1
                }
                if flags & CharacterTable.space == 0 {
                    // A CJK ideograph: a word of its own (compatibility ideographs normalise to unified ones).
                    if flags & changeMask == 0 {
                        guard body(UnsafeBufferPointer(rebasing: input[position..<(position + length)]), 1)
                        else { return }
                    } else {
                        guard
                            processPiece(
                                input, position..<(position + length), normalising: true, isASCII: false, lookup,
                                &scratch, body)
                        else { return }
                    }
                }
            } else {
                if tokenStart < 0 {
                    tokenStart = position
                    tokenNeedsNormalising = false
                    tokenIsASCII = true
                }
                if flags & changeMask != 0 { tokenNeedsNormalising = true }
                if value >= 0x80 { tokenIsASCII = false }
            }
            position += length
        }
        if tokenStart >= 0 {
            _ = processPiece(
                input, tokenStart..<count, normalising: tokenNeedsNormalising, isASCII: tokenIsASCII, lookup,
                &scratch, body)
        }
    }

    /// Flags of scalars, the BMP from a table the caller holds.
    private struct FlagLookup {
        let basic: UnsafeBufferPointer<UInt8>

        @inline(__always)
        func callAsFunction(_ value: UInt32) -> UInt8 {
            value < 0x1_0000 ? basic[Int(value)] : CharacterTable.flags(value)
        }
    }

    /// Reusable buffers for pieces that need normalising.
    private struct Scratch {
        var scalars: [UInt32] = []
        var lowered: [UInt32] = []
        var decomposed: [UInt32] = []
        var bytes: [UInt8] = []
    }

    /// Splits one space-delimited piece at punctuation and hands its words to `body`; returns false when `body` did.
    @inline(__always)
    private func processPiece(
        _ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, normalising: Bool, isASCII: Bool,
        _ lookup: FlagLookup, _ scratch: inout Scratch, _ body: (UnsafeBufferPointer<UInt8>, Int) -> Bool
    ) -> Bool {
        if !normalising {
            return splitAtPunctuation(input, range, lookup, body)
        }
        if isASCII {
            // Capitals and control characters only: no decomposition, no context.
            scratch.bytes.removeAll(keepingCapacity: true)
            let lowercase = configuration.lowercase
            for byte in input[range] where lookup(UInt32(byte)) & CharacterTable.drop == 0 {
                scratch.bytes.append(lowercase && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
        } else {
            normalise(input, range, &scratch)
        }
        return scratch.bytes.withUnsafeBufferPointer { bytes in
            splitAtPunctuation(bytes, 0..<bytes.count, lookup, body)
        }
    }

    /// Words of `bytes[range]` (normalised text): runs of non-punctuation and single punctuation characters.
    @inline(__always)
    private func splitAtPunctuation(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ lookup: FlagLookup,
        _ body: (UnsafeBufferPointer<UInt8>, Int) -> Bool
    ) -> Bool {
        var wordStart = range.lowerBound
        var scalars = 0
        var position = range.lowerBound
        while position < range.upperBound {
            let (value, length) = Self.decodeScalar(bytes, at: position)
            if lookup(value) & CharacterTable.punctuation != 0 {
                if position > wordStart {
                    guard body(UnsafeBufferPointer(rebasing: bytes[wordStart..<position]), scalars) else {
                        return false
                    }
                }
                guard body(UnsafeBufferPointer(rebasing: bytes[position..<(position + length)]), 1) else {
                    return false
                }
                wordStart = position + length
                scalars = 0
            } else {
                scalars += 1
            }
            position += length
        }
        if range.upperBound > wordStart {
            return body(UnsafeBufferPointer(rebasing: bytes[wordStart..<range.upperBound]), scalars)
        }
        return true
    }

    /// Cleans, lower-cases and strips accents of one piece into `scratch.bytes` (UTF-8).
    private func normalise(_ input: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ scratch: inout Scratch) {
        scratch.scalars.removeAll(keepingCapacity: true)
        var position = range.lowerBound
        while position < range.upperBound {
            let (value, length) = Self.decodeScalar(input, at: position)
            if CharacterTable.flags(value) & CharacterTable.drop == 0 { scratch.scalars.append(value) }
            position += length
        }
        var current = scratch.scalars
        if configuration.lowercase {
            scratch.lowered.removeAll(keepingCapacity: true)
            for (index, value) in current.enumerated() {
                if value == 0x3A3 {
                    scratch.lowered.append(Self.isFinalSigma(current, at: index) ? 0x3C2 : 0x3C3)
                } else if CharacterTable.flags(value) & CharacterTable.changesWhenLowercased != 0 {
                    scratch.lowered.append(contentsOf: CharacterTable.lowercaseMapping(value))
                } else {
                    scratch.lowered.append(value)
                }
            }
            current = scratch.lowered
        }
        if configuration.stripsAccents {
            scratch.decomposed.removeAll(keepingCapacity: true)
            var hasCombining = false
            for value in current {
                if CharacterTable.flags(value) & CharacterTable.changesWhenAccentsStripped != 0 {
                    hasCombining = true
                    if let decomposition = CharacterTable.canonicalDecomposition(value) {
                        scratch.decomposed.append(contentsOf: decomposition)
                        continue
                    }
                }
                scratch.decomposed.append(value)
            }
            if hasCombining {
                Self.canonicallyReorder(&scratch.decomposed)
                scratch.decomposed.removeAll { CharacterTable.isNonspacingMark($0) }
            }
            current = scratch.decomposed
        }
        scratch.bytes.removeAll(keepingCapacity: true)
        for value in current {
            let scalar = Unicode.Scalar(value)!  // mappings and decompositions yield scalars
            scratch.bytes.append(contentsOf: UTF8.encode(scalar)!)
        }
    }

    /// Greek capital sigma lower-cases to final ς when a cased letter precedes it (case-ignorable characters
    /// skipped) and none follows it, as Unicode's Final_Sigma condition and Python's `str.lower` define.
    private static func isFinalSigma(_ scalars: [UInt32], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0, CharacterTable.isCaseIgnorable(scalars[before]) { before -= 1 }
        guard before >= 0, CharacterTable.isCased(scalars[before]) else { return false }
        var after = index + 1
        while after < scalars.count, CharacterTable.isCaseIgnorable(scalars[after]) { after += 1 }
        return after == scalars.count || !CharacterTable.isCased(scalars[after])
    }

    /// The canonical ordering step of NFD: each run of scalars with a non-zero combining class is stably sorted by
    /// class.
    private static func canonicallyReorder(_ scalars: inout [UInt32]) {
        var index = 0
        while index < scalars.count {
            guard CharacterTable.combiningClass(scalars[index]) != 0 else {
                index += 1
                continue
            }
            var end = index
            while end < scalars.count, CharacterTable.combiningClass(scalars[end]) != 0 { end += 1 }
            if end - index > 1 {
                let sorted = scalars[index..<end].enumerated().sorted {
                    let (a, b) = (CharacterTable.combiningClass($0.element), CharacterTable.combiningClass($1.element))
                    return a != b ? a < b : $0.offset < $1.offset
                }.map(\.element)
                scalars.replaceSubrange(index..<end, with: sorted)
            }
            index = end
        }
    }

    /// The scalar starting at `position` of valid UTF-8, and its length in bytes.
    @inline(__always)
    static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> (UInt32, Int) {
        let lead = UInt32(bytes[position])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0 {
            return ((lead & 0x1F) << 6 | UInt32(bytes[position + 1] & 0x3F), 2)
        }
        if lead < 0xF0 {
            return (
                (lead & 0x0F) << 12 | UInt32(bytes[position + 1] & 0x3F) << 6 | UInt32(bytes[position + 2] & 0x3F), 3
            )
        }
        return (
            (lead & 0x07) << 18 | UInt32(bytes[position + 1] & 0x3F) << 12 | UInt32(bytes[position + 2] & 0x3F) << 6
                | UInt32(bytes[position + 3] & 0x3F), 4
        )
    }
}
