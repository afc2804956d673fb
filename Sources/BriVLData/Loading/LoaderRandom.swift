/// The loader's own random-number generator: SplitMix64 (Steele, Lea and Flood, 2014).
///
/// The loader's order must not change when the standard library changes how it draws integers, so every draw that
/// decides something (shard order, shuffle buffer, caption choice) goes through ``below(_:)`` here, never through
/// `Int.random(in:)`. Its whole state is one `UInt64`, so it is cheap to create one per sample.
public struct LoaderRandom: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one named stream, e.g. `(seed, "shards", epoch)`: the parts are mixed so that nearby
    /// inputs give unrelated streams.
    public init(seed: UInt64, stream: LoaderStream, _ parts: Int...) {
        var value = LoaderRandom.mix(seed ^ stream.rawValue)
        for part in parts {
            value = LoaderRandom.mix((value &+ 0x9E37_79B9_7F4A_7C15) ^ UInt64(bitPattern: Int64(part)))
        }
        state = value
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return LoaderRandom.mix(state)
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "the bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform value in [0, 1) with 53 random bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Fisher–Yates shuffle driven by this generator.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for index in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(index, below(index + 1))
        }
    }

    /// The SplitMix64 finaliser: a bijection on 64 bits with good avalanche.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The independent random streams of the loader, so that e.g. changing the shuffle buffer never changes the
/// shard order or the augmentations.
public enum LoaderStream: UInt64, Sendable {
    case shardOrder = 0x5348_4152_4453   // "SHARDS"
    case resample = 0x5245_5341_4d50    // "RESAMP"
    case shuffleBuffer = 0x4255_4646_4552  // "BUFFER"
    case sample = 0x5341_4d50_4c45      // "SAMPLE"
    /// Training-time draws keyed by the optimizer step (MLM masking), so a resumed run draws the same ones.
    case trainingStep = 0x5354_4550     // "STEP"
}
