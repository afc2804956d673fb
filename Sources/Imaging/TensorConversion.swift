import Foundation
import Torch

/// Per-channel normalisation of [0, 1] pixel values: (value / 255 − mean) / std.
public struct Normalization: Sendable, Equatable {
    public var mean: SIMD3<Float>
    public var std: SIMD3<Float>

    public init(mean: SIMD3<Float>, std: SIMD3<Float>) {
        self.mean = mean
        self.std = std
    }

    /// OpenAI CLIP's image statistics (the `image_mean`/`image_std` of the released preprocessors, also
    /// OpenCLIP's `OPENAI_DATASET_MEAN`/`STD`).
    public static let clip = Normalization(
        mean: SIMD3(0.48145466, 0.4578275, 0.40821073), std: SIMD3(0.26862954, 0.26130258, 0.27577711))

    /// ImageNet statistics (torchvision's classification models).
    public static let imagenet = Normalization(mean: SIMD3(0.485, 0.456, 0.406), std: SIMD3(0.229, 0.224, 0.225))

    /// Values / 255 only, in [0, 1].
    public static let unit = Normalization(mean: SIMD3(0, 0, 0), std: SIMD3(1, 1, 1))

    func validate() throws {
        guard (0..<3).allSatisfy({ std[$0] > 0 && std[$0].isFinite && mean[$0].isFinite }) else {
            throw ImageError.invalidArgument("normalisation needs positive finite std (got \(std)) and finite mean")
        }
    }

    /// The 256 output values of each channel, so conversion is one table lookup per byte.
    func lookupTables() -> [[Float]] {
        (0..<3).map { channel in
            (0..<256).map { value in (Float(value) / 255 - mean[channel]) / std[channel] }
        }
    }
}

extension Image {
    /// Writes the image channel-major (red plane, green plane, blue plane; [3, height, width]) as normalised
    /// float32 into `buffer`, which must hold exactly 3·width·height values.
    public func writeNormalizedPlanes(into buffer: UnsafeMutableBufferPointer<Float>, normalization: Normalization) throws {
        guard buffer.count == 3 * width * height else {
            throw ImageError.invalidArgument("a buffer of \(buffer.count) floats cannot hold a [3, \(height), \(width)] image")
        }
        try normalization.validate()
        let tables = normalization.lookupTables()
        let planeSize = width * height
        tables[0].withUnsafeBufferPointer { red in
            tables[1].withUnsafeBufferPointer { green in
                tables[2].withUnsafeBufferPointer { blue in
                    withUnsafeBufferPointer { pixels in
                        let input = pixels.baseAddress!
                        let r = buffer.baseAddress!, g = r + planeSize, b = g + planeSize
                        for index in 0..<planeSize {
                            let pixel = input + 3 * index
                            r[index] = red[Int(pixel[0])]
                            g[index] = green[Int(pixel[1])]
                            b[index] = blue[Int(pixel[2])]
                        }
                    }
                }
            }
        }
    }

    /// The image as a float32 tensor [3, height, width], normalised per channel. The tensor owns memory filled
    /// directly (no intermediate array).
    public func tensor(normalization: Normalization = .clip) throws -> Tensor {
        let count = 3 * width * height
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: count)
        do {
            try writeNormalizedPlanes(into: UnsafeMutableBufferPointer(start: memory, count: count), normalization: normalization)
        } catch {
            memory.deallocate()
            throw error
        }
        let address = UInt(bitPattern: memory)
        do {
            return try Tensor(wrapping: UnsafeMutableRawPointer(memory), shape: [3, height, width], dtype: .float32) {
                UnsafeMutablePointer<Float>(bitPattern: address)?.deallocate()
            }
        } catch {
            memory.deallocate()
            throw ImageError.invalidArgument("cannot wrap pixels as a tensor: \(error)")
        }
    }

    /// The raw bytes as a uint8 tensor [height, width, 3] (a copy).
    public func byteTensor() throws -> Tensor {
        let count = byteCount
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        withUnsafeBufferPointer { memory.initialize(from: $0.baseAddress!, count: count) }
        let address = UInt(bitPattern: memory)
        do {
            return try Tensor(wrapping: UnsafeMutableRawPointer(memory), shape: [height, width, 3], dtype: .uint8) {
                UnsafeMutablePointer<UInt8>(bitPattern: address)?.deallocate()
            }
        } catch {
            memory.deallocate()
            throw ImageError.invalidArgument("cannot wrap pixels as a tensor: \(error)")
        }
    }
}
