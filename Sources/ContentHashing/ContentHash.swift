import Foundation

/// A 128-bit content hash that is the same in every process and on every run (Swift's `Hasher` is seeded per
/// process, so it cannot key anything written to disk, such as the dedup keys a resumed run reloads).
///
/// Two 64-bit lanes over 8-byte words with multiply–rotate mixing and a final avalanche, in the manner of
/// MurmurHash3's x64 variant. Not cryptographic: it identifies content, it does not resist a chosen collision.
public struct ContentHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits.
    public var description: String {
        let digits = String(high, radix: 16), lowDigits = String(low, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
            + String(repeating: "0", count: 16 - lowDigits.count) + lowDigits
    }

    /// Parses the 32-digit form of ``description``.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let high = UInt64(hex.prefix(16), radix: 16),
            let low = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public static func of(_ data: Data, seed: UInt64 = 0) -> ContentHash {
        data.withUnsafeBytes { of(UnsafeRawBufferPointer($0), seed: seed) }
    }

    public static func of(_ string: String, seed: UInt64 = 0) -> ContentHash {
        var copy = string
        return copy.withUTF8 { of(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Hashes 32-bit values (e.g. Unicode scalars) by their little-endian bytes.
    public static func of(_ values: UnsafeBufferPointer<UInt32>, seed: UInt64 = 0) -> ContentHash {
        of(UnsafeRawBufferPointer(values), seed: seed)
    }

    public static func of(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> ContentHash {
        var hasher = StreamingContentHasher(seed: seed)
        hasher.combine(bytes)
        return hasher.finalize()
    }
}

/// Incremental form of ``ContentHash``: feeding the same bytes in any split gives the same hash.
public struct StreamingContentHasher: Sendable {
    private static let c1: UInt64 = 0x87c3_7b91_1142_53d5
    private static let c2: UInt64 = 0x4cf5_ad43_2745_937f
    private var h1: UInt64
    private var h2: UInt64
    private var length: UInt64 = 0
    /// Bytes waiting for a full 16-byte block.
    private var tail: (UInt64, UInt64) = (0, 0)
    private var tailCount = 0

    public init(seed: UInt64 = 0) {
        h1 = seed ^ 0x9e37_79b9_7f4a_7c15
        h2 = seed &* 0xc2b2_ae3d_27d4_eb4f ^ 0x1656_67b1_9e37_79f9
    }

    public mutating func combine(_ data: Data) {
        data.withUnsafeBytes { combine(UnsafeRawBufferPointer($0)) }
    }

    public mutating func combine(_ string: String) {
        var copy = string
        copy.withUTF8 { combine(UnsafeRawBufferPointer($0)) }
    }

    /// Adds an integer's 8 little-endian bytes (a length or a separator between fields).
    public mutating func combine(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { combine($0) }
    }

    public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        length &+= UInt64(count)
        // Finish a partial block byte by byte, then run whole blocks straight from memory.
        while tailCount != 0 && index < count {
            pushTailByte(bytes[index])
            index += 1
        }
        while count - index >= 16 {
            let k1 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let k2 = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self))
            mixBlock(k1, k2)
            index += 16
        }
        while index < count {
            pushTailByte(bytes[index])
            index += 1
        }
    }

    private mutating func pushTailByte(_ byte: UInt8) {
        if tailCount < 8 {
            tail.0 |= UInt64(byte) << (8 * UInt64(tailCount))
        } else {
            tail.1 |= UInt64(byte) << (8 * UInt64(tailCount - 8))
        }
        tailCount += 1
        if tailCount == 16 {
            mixBlock(tail.0, tail.1)
            tail = (0, 0)
            tailCount = 0
        }
    }

    @inline(__always)
    private mutating func mixBlock(_ k1In: UInt64, _ k2In: UInt64) {
        var k1 = k1In &* Self.c1
        k1 = (k1 << 31) | (k1 >> 33)
        k1 = k1 &* Self.c2
        h1 ^= k1
        h1 = (h1 << 27) | (h1 >> 37)
        h1 = h1 &+ h2
        h1 = h1 &* 5 &+ 0x52dc_e729
        var k2 = k2In &* Self.c2
        k2 = (k2 << 33) | (k2 >> 31)
        k2 = k2 &* Self.c1
        h2 ^= k2
        h2 = (h2 << 31) | (h2 >> 33)
        h2 = h2 &+ h1
        h2 = h2 &* 5 &+ 0x3849_5ab5
    }

    private static func avalanche(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    public func finalize() -> ContentHash {
        var a = h1, b = h2
        if tailCount > 0 {
            var k1 = tail.0 &* Self.c1
            k1 = (k1 << 31) | (k1 >> 33)
            a ^= k1 &* Self.c2
            var k2 = tail.1 &* Self.c2
            k2 = (k2 << 33) | (k2 >> 31)
            b ^= k2 &* Self.c1
        }
        a ^= length
        b ^= length
        a = a &+ b
        b = b &+ a
        a = Self.avalanche(a)
        b = Self.avalanche(b)
        a = a &+ b
        b = b &+ a
        return ContentHash(high: a, low: b)
    }
}
