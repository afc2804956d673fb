import Foundation

/// A rectangle in pixel coordinates: pixel (i, j) covers [i, i+1) × [j, j+1), so a whole image is
/// (0, 0, width, height). Fractional edges are allowed (they arise when a crop is mapped onto a reduced decode).
public struct PixelBox: Equatable, Sendable, CustomStringConvertible {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// The box of integer pixel rectangle (x, y, width, height).
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.init(x0: Double(x), y0: Double(y), x1: Double(x + width), y1: Double(y + height))
    }

    /// The whole of an image of `size`.
    public init(covering size: ImageSize) {
        self.init(x: 0, y: 0, width: size.width, height: size.height)
    }

    public var width: Double { x1 - x0 }
    public var height: Double { y1 - y0 }

    /// The box in an image scaled by (sx, sy) relative to this one's.
    func scaled(x sx: Double, y sy: Double) -> PixelBox {
        PixelBox(x0: x0 * sx, y0: y0 * sy, x1: x1 * sx, y1: y1 * sy)
    }

    public var description: String { "[\(x0), \(x1)) × [\(y0), \(y1))" }
}

/// Interpolation kernels, as Pillow defines them: when shrinking with antialiasing, the kernel is stretched by the
/// scale factor so that every input pixel contributes (a low-pass filter), instead of sampling a few neighbours.
public enum ResamplingFilter: String, Sendable, CaseIterable {
    /// Triangle kernel, support 1.
    case bilinear
    /// Keys cubic convolution with a = −0.5 (Pillow's and PyTorch's antialiased bicubic), support 2.
    case bicubic
    /// sinc(x)·sinc(x/3), support 3.
    case lanczos

    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            return 0
        case .lanczos:
            if x >= 3 { return 0 }
            return ResamplingFilter.sinc(x) * ResamplingFilter.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let t = Double.pi * x
        return Foundation.sin(t) / t
    }
}

/// The taps of one axis of a separable resampling: output i reads inputs first[i] ..< first[i] + count[i] with
/// weights[i·stride ..< i·stride + count[i]] (normalised to sum 1).
struct AxisWeights {
    let outputCount: Int
    let stride: Int
    let first: [Int]
    let count: [Int]
    let weights: [Float]
    /// Inputs read by any output.
    let inputRange: Range<Int>
    /// Every output copies one input with weight 1, consecutively (a pure crop on this axis).
    let isCopy: Bool

    init(inputCount: Int, outputCount: Int, start: Double, end: Double, filter: ResamplingFilter, antialias: Bool) {
        precondition(inputCount > 0 && outputCount > 0, "resampling needs non-empty sizes")
        let scale = (end - start) / Double(outputCount)
        let filterScale = antialias ? max(scale, 1) : 1
        let support = filter.support * filterScale
        let stride = Int((support * 2).rounded(.up)) + 2
        var first = [Int](repeating: 0, count: outputCount)
        var count = [Int](repeating: 0, count: outputCount)
        var weights = [Float](repeating: 0, count: outputCount * stride)
        var lowest = inputCount, highest = 0
        var isCopy = true
        var taps = [Double](repeating: 0, count: stride)
        for i in 0..<outputCount {
            let center = start + (Double(i) + 0.5) * scale
            var low = max(Int((center - support + 0.5).rounded(.down)), 0)
            var high = min(Int((center + support + 0.5).rounded(.down)), inputCount)
            var total = 0.0
            if high > low {
                for x in low..<high {
                    let w = filter.weight((Double(x) - center + 0.5) / filterScale)
                    taps[x - low] = w
                    total += w
                }
            }
            if high <= low || total == 0 {
                // The box lies outside the image (or between kernel zeros): use the nearest pixel.
                low = min(max(Int(center.rounded(.down)), 0), inputCount - 1)
                high = low + 1
                taps[0] = 1
                total = 1
            }
            // Trim zero-weight taps at both ends (common at integer positions), so fewer inputs are read.
            while high - low > 1 && taps[0] == 0 {
                taps.removeFirst()
                taps.append(0)
                low += 1
            }
            while high - low > 1 && taps[high - low - 1] == 0 { high -= 1 }
            first[i] = low
            count[i] = high - low
            for t in 0..<(high - low) { weights[i * stride + t] = Float(taps[t] / total) }
            if count[i] != 1 || weights[i * stride] != 1 || (i > 0 && low != first[i - 1] + 1) { isCopy = false }
            lowest = min(lowest, low)
            highest = max(highest, high)
        }
        self.outputCount = outputCount
        self.stride = stride
        self.first = first
        self.count = count
        self.weights = weights
        self.inputRange = lowest..<highest
        self.isCopy = isCopy
    }
}

extension Image {
    /// Resamples the part of the image inside `box` to `size` pixels: Pillow's `resize(size, filter, box)`.
    ///
    /// Separable: a vertical pass from the bytes into one float row, then a horizontal pass from that row into the
    /// output row, so the intermediate stays in L1 and only the input rows and columns some output needs are read.
    /// Values are accumulated in float and rounded once. `antialias` stretches the kernel when shrinking.
    public func resampled(
        box: PixelBox? = nil, to size: ImageSize, filter: ResamplingFilter = .bicubic, antialias: Bool = true
    ) throws -> Image {
        try Image.validate(width: size.width, height: size.height)
        let box = box ?? PixelBox(covering: self.size)
        guard box.width > 0, box.height > 0, box.x0.isFinite, box.y0.isFinite, box.x1.isFinite, box.y1.isFinite else {
            throw ImageError.invalidArgument("resampling box \(box) is empty")
        }
        let columns = AxisWeights(
            inputCount: width, outputCount: size.width, start: box.x0, end: box.x1, filter: filter, antialias: antialias)
        let rows = AxisWeights(
            inputCount: height, outputCount: size.height, start: box.y0, end: box.y1, filter: filter,
            antialias: antialias)
        if columns.isCopy && rows.isCopy {
            return try cropped(
                x: columns.first[0], y: rows.first[0], width: size.width, height: size.height)
        }
        let storage = PixelStorage(count: size.width * size.height * 3)
        withUnsafeBufferPointer { source in
            Resampler.run(
                source: source.baseAddress!, sourceWidth: width, columns: columns, rows: rows,
                output: storage.base)
        }
        return Image(width: size.width, height: size.height, storage: storage)
    }

    /// Resizes the whole image to `size`.
    public func resized(to size: ImageSize, filter: ResamplingFilter = .bicubic, antialias: Bool = true) throws -> Image {
        try resampled(box: nil, to: size, filter: filter, antialias: antialias)
    }

    /// Resizes so that the shorter side is `shorterSide`, keeping the aspect ratio (torchvision's
    /// `Resize(int)`: the longer side is truncated, `int(shorterSide · long / short)`).
    public func resized(shorterSide: Int, filter: ResamplingFilter = .bicubic, antialias: Bool = true) throws -> Image {
        try resized(to: size.scaledToShorterSide(shorterSide), filter: filter, antialias: antialias)
    }
}

extension ImageSize {
    /// The size with its shorter side set to `side` and the aspect ratio kept (torchvision's rounding).
    public func scaledToShorterSide(_ side: Int) -> ImageSize {
        if width <= height {
            return ImageSize(width: side, height: max(1, Int(Double(side) * Double(height) / Double(width))))
        }
        return ImageSize(width: max(1, Int(Double(side) * Double(width) / Double(height))), height: side)
    }

    /// The size with its longer side set to `side` and the aspect ratio kept.
    public func scaledToLongerSide(_ side: Int) -> ImageSize {
        if width >= height {
            return ImageSize(width: side, height: max(1, Int(Double(side) * Double(height) / Double(width))))
        }
        return ImageSize(width: max(1, Int(Double(side) * Double(width) / Double(height))), height: side)
    }
}

/// The two resampling passes over raw memory.
enum Resampler {
    static func run(
        source: UnsafePointer<UInt8>, sourceWidth: Int, columns: AxisWeights, rows: AxisWeights,
        output: UnsafeMutablePointer<UInt8>
    ) {
        let sourceRowBytes = sourceWidth * 3
        let firstColumn = columns.inputRange.lowerBound
        let span = (columns.inputRange.upperBound - firstColumn) * 3
        // One float row of the columns the horizontal pass reads, padded so that a 4-float load at the last pixel
        // stays inside the buffer.
        let intermediate = UnsafeMutablePointer<Float>.allocate(capacity: span + 4)
        defer { intermediate.deallocate() }
        intermediate.initialize(repeating: 0, count: span + 4)
        let outputRowBytes = columns.outputCount * 3
        var rowPointers = [UnsafePointer<UInt8>](repeating: source, count: rows.stride)
        columns.first.withUnsafeBufferPointer { columnFirst in
            columns.count.withUnsafeBufferPointer { columnCount in
                columns.weights.withUnsafeBufferPointer { columnWeights in
                    rows.weights.withUnsafeBufferPointer { rowWeights in
                        for y in 0..<rows.outputCount {
                            let taps = rows.count[y]
                            let top = rows.first[y]
                            for t in 0..<taps {
                                rowPointers[t] = source + (top + t) * sourceRowBytes + firstColumn * 3
                            }
                            rowPointers.withUnsafeBufferPointer { pointers in
                                verticalPass(
                                    rows: pointers.baseAddress!, weights: rowWeights.baseAddress! + y * rows.stride,
                                    taps: taps, count: span, into: intermediate)
                            }
                            horizontalPass(
                                row: intermediate, firstColumn: firstColumn, first: columnFirst.baseAddress!,
                                count: columnCount.baseAddress!, weights: columnWeights.baseAddress!,
                                stride: columns.stride, outputCount: columns.outputCount,
                                into: output + y * outputRowBytes)
                        }
                    }
                }
            }
        }
    }

    /// out[j] = Σₜ weights[t] · rows[t][j] for j < count. Taps are taken four at a time so the float row is read and
    /// written once per four input rows; the loops are simple enough for the compiler to vectorise.
    @inline(__always)
    static func verticalPass(
        rows: UnsafePointer<UnsafePointer<UInt8>>, weights: UnsafePointer<Float>, taps: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        var t = 0
        var initialised = false
        while t < taps {
            let remaining = taps - t
            if remaining >= 4 {
                let r0 = rows[t], r1 = rows[t + 1], r2 = rows[t + 2], r3 = rows[t + 3]
                let w0 = weights[t], w1 = weights[t + 1], w2 = weights[t + 2], w3 = weights[t + 3]
                if initialised {
                    for j in 0..<count {
                        out[j] += w0 * Float(r0[j]) + w1 * Float(r1[j]) + w2 * Float(r2[j]) + w3 * Float(r3[j])
                    }
                } else {
                    for j in 0..<count {
                        out[j] = w0 * Float(r0[j]) + w1 * Float(r1[j]) + w2 * Float(r2[j]) + w3 * Float(r3[j])
                    }
                }
                t += 4
            } else if remaining >= 2 {
                let r0 = rows[t], r1 = rows[t + 1]
                let w0 = weights[t], w1 = weights[t + 1]
                if initialised {
                    for j in 0..<count { out[j] += w0 * Float(r0[j]) + w1 * Float(r1[j]) }
                } else {
                    for j in 0..<count { out[j] = w0 * Float(r0[j]) + w1 * Float(r1[j]) }
                }
                t += 2
            } else {
                let r0 = rows[t]
                let w0 = weights[t]
                if initialised {
                    for j in 0..<count { out[j] += w0 * Float(r0[j]) }
                } else {
                    for j in 0..<count { out[j] = w0 * Float(r0[j]) }
                }
                t += 1
            }
            initialised = true
        }
    }

    /// round(value) clamped to 0...255.
    @inline(__always)
    static func byte(_ value: Float) -> UInt8 {
        UInt8(min(max(value + 0.5, 0), 255))
    }

    /// Each output pixel is Σₜ weights · row pixels, red, green and blue at once in a 4-lane vector (the fourth lane
    /// reads the next pixel's red and is ignored), then rounded and clamped to bytes.
    @inline(__always)
    static func horizontalPass(
        row: UnsafePointer<Float>, firstColumn: Int, first: UnsafePointer<Int>, count: UnsafePointer<Int>,
        weights: UnsafePointer<Float>, stride: Int, outputCount: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
        let raw = UnsafeRawPointer(row)
        for x in 0..<outputCount {
            let base = (first[x] - firstColumn) * 3 * MemoryLayout<Float>.stride
            let w = weights + x * stride
            // Two accumulators, so consecutive taps do not wait on each other's additions.
            var even = SIMD4<Float>(repeating: 0), odd = SIMD4<Float>(repeating: 0)
            let taps = count[x]
            var t = 0
            var offset = base
            let pixelBytes = 3 * MemoryLayout<Float>.stride
            while t + 1 < taps {
                even += raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) * w[t]
                odd += raw.loadUnaligned(fromByteOffset: offset + pixelBytes, as: SIMD4<Float>.self) * w[t + 1]
                offset += 2 * pixelBytes
                t += 2
            }
            if t < taps { even += raw.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self) * w[t] }
            let sum = even + odd
            // Scalar rounding: the generic SIMD conversions of the standard library are not specialised here.
            out[3 * x] = Resampler.byte(sum[0])
            out[3 * x + 1] = Resampler.byte(sum[1])
            out[3 * x + 2] = Resampler.byte(sum[2])
        }
    }
}
