import Foundation

/// A small, fast, seeded generator: xoshiro256** (Blackman and Vigna, 2018), its state filled from the seed by
/// SplitMix64. The same seed gives the same stream on every platform and toolchain.
public struct SeededRandom: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    public init(seed: UInt64) {
        var state = seed
        func splitMix() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    private func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }
}

/// Draws built only on `next()`, so that augmentations do not change when the standard library changes how
/// `Double.random(in:using:)` or `Int.random(in:using:)` consume their generator.
enum Draw {
    /// Uniform in [0, 1) with 53 random bits.
    static func unit(_ generator: inout some RandomNumberGenerator) -> Double {
        Double(generator.next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [range.lowerBound, range.upperBound).
    static func uniform(_ range: ClosedRange<Double>, _ generator: inout some RandomNumberGenerator) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit(&generator)
    }

    /// Uniform integer in 0..<bound without modulo bias (Lemire's multiply-and-reject).
    static func below(_ bound: Int, _ generator: inout some RandomNumberGenerator) -> Int {
        precondition(bound > 0, "the bound must be positive")
        let range = UInt64(bound)
        var product = generator.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}

/// The crop rectangle of torchvision's `RandomResizedCrop`: up to ten draws of an area fraction in `scale` and a
/// log-uniform aspect ratio in `ratio`; the first that fits inside the image wins, otherwise a centred crop with
/// the ratio clamped into range.
public struct RandomResizedCropParameters: Sendable, Equatable {
    public var scale: ClosedRange<Double>
    public var ratio: ClosedRange<Double>

    /// torchvision's defaults: 8 %...100 % of the area, ratios 3/4...4/3.
    public init(scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3)) {
        self.scale = scale
        self.ratio = ratio
    }

    func validate() throws {
        guard scale.lowerBound > 0, scale.upperBound.isFinite, ratio.lowerBound > 0, ratio.upperBound.isFinite else {
            throw ImageError.invalidArgument("random resized crop needs positive finite ranges (scale \(scale), ratio \(ratio))")
        }
    }

    /// A crop rectangle (integer pixels) inside an image of `size`.
    public func sample(in size: ImageSize, using generator: inout some RandomNumberGenerator) -> (
        x: Int, y: Int, width: Int, height: Int
    ) {
        let area = Double(size.width * size.height)
        let logRatio = Foundation.log(ratio.lowerBound)...Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * Draw.uniform(scale, &generator)
            let aspect = Foundation.exp(Draw.uniform(logRatio, &generator))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= size.width && h > 0 && h <= size.height {
                let y = Draw.below(size.height - h + 1, &generator)
                let x = Draw.below(size.width - w + 1, &generator)
                return (x, y, w, h)
            }
        }
        let inputRatio = Double(size.width) / Double(size.height)
        var w = size.width, h = size.height
        if inputRatio < ratio.lowerBound {
            h = max(1, min(size.height, Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))))
        } else if inputRatio > ratio.upperBound {
            w = max(1, min(size.width, Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))))
        }
        return ((size.width - w) / 2, (size.height - h) / 2, w, h)
    }
}
