import CImageCodecs
import Foundation
import Testing

@testable import Imaging

/// Helpers shared by the Imaging tests: synthetic images, encoders for the variants the public API does not
/// write (grey, alpha, 16-bit, palette, CMYK), EXIF and chunk surgery, and image comparisons.
enum Fixture {
    /// A smooth colourful picture with some texture: compresses like a photo, and any misplaced row or column
    /// shows.
    static func photo(width: Int, height: Int) throws -> Image {
        try Image(width: width, height: height) { buffer in
            for y in 0..<height {
                for x in 0..<width {
                    let offset = (y * width + x) * 3
                    let fx = Double(x) / Double(max(width - 1, 1)), fy = Double(y) / Double(max(height - 1, 1))
                    buffer[offset] = UInt8(clamping: Int(255 * fx))
                    buffer[offset + 1] = UInt8(clamping: Int(255 * fy))
                    buffer[offset + 2] = UInt8(clamping: Int(128 + 100 * sin(Double(x + 2 * y) / 7)))
                }
            }
        }
    }

    /// The resize tests' pattern (same formula as Tests/Reference/make_resize_references.py).
    static func pattern(width: Int, height: Int) throws -> Image {
        try Image(width: width, height: height) { buffer in
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 {
                        buffer[(y * width + x) * 3 + c] = UInt8((x * 37 + y * 91 + c * 53 + (x * y) % 7 * 19) % 256)
                    }
                }
            }
        }
    }

    /// Random pixels from a seed (for exact round trips).
    static func noise(width: Int, height: Int, seed: UInt64) throws -> Image {
        var random = SeededRandom(seed: seed)
        return try Image(width: width, height: height) { buffer in
            for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: random.next()) }
        }
    }

    /// A grid of solid blocks, `colors[row][column]`, each `block` pixels square.
    static func blocks(_ colors: [[Pixel]], block: Int) throws -> Image {
        let rows = colors.count, columns = colors[0].count
        return try Image(width: columns * block, height: rows * block) { buffer in
            for y in 0..<(rows * block) {
                for x in 0..<(columns * block) {
                    let color = colors[y / block][x / block]
                    let offset = (y * columns * block + x) * 3
                    buffer[offset] = color.red
                    buffer[offset + 1] = color.green
                    buffer[offset + 2] = color.blue
                }
            }
        }
    }

    static let sixColors: [[Pixel]] = [
        [Pixel(255, 0, 0), Pixel(0, 255, 0), Pixel(0, 0, 255)],
        [Pixel(255, 255, 0), Pixel(0, 255, 255), Pixel(255, 0, 255)],
    ]

    // MARK: - Encoders through the C layer

    static func message(_ error: ic_error) -> String {
        var error = error
        return withUnsafeBytes(of: &error.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }

    static func collect(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<ic_error>) -> ic_status) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = ic_error()
        let status = encode(&output, &size, &error)
        guard status == IC_OK, let output else {
            throw ImageError.encodingFailed(format: .png, reason: message(error))
        }
        return Data(bytesNoCopy: output, count: size, deallocator: .free)
    }

    /// A PNG of raw samples (`color` GRAY, GRAY_ALPHA, RGB, RGBA, PALETTE; 16-bit samples native-endian).
    static func png(
        samples: [UInt8], width: Int, height: Int, color: ic_color, bitDepth: Int = 8, palette: [UInt8] = [],
        transparency: [UInt8] = [], interlaced: Bool = false
    ) throws -> Data {
        let channels: Int
        switch color {
        case IC_COLOR_GRAY, IC_COLOR_PALETTE: channels = 1
        case IC_COLOR_GRAY_ALPHA: channels = 2
        case IC_COLOR_RGB: channels = 3
        default: channels = 4
        }
        let stride = width * channels * (bitDepth == 16 ? 2 : 1)
        precondition(samples.count == stride * height, "sample count does not match")
        return try samples.withUnsafeBytes { pixels in
            try palette.withUnsafeBufferPointer { paletteBuffer in
                try transparency.withUnsafeBufferPointer { alphaBuffer in
                    var options = ic_png_options()
                    options.color = color
                    options.bit_depth = Int32(bitDepth)
                    options.compression_level = -1
                    options.interlaced = interlaced ? 1 : 0
                    options.palette = paletteBuffer.baseAddress
                    options.palette_count = Int32(palette.count / 3)
                    options.transparency = alphaBuffer.baseAddress
                    options.transparency_count = Int32(transparency.count)
                    return try collect { ic_encode_png(pixels.baseAddress, Int32(width), Int32(height), stride, &options, $0, $1, $2) }
                }
            }
        }
    }

    /// 16-bit samples as native-endian bytes.
    static func bytes16(_ values: [UInt16]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    /// A JPEG of interleaved samples: 1 (grey), 3 (RGB) or 4 (CMYK, Adobe-inverted; `ycck` stores it as YCCK).
    static func jpeg(
        samples: [UInt8], width: Int, height: Int, components: Int, quality: Int = 95, ycck: Bool = false,
        subsampling: ic_subsampling = IC_SUBSAMPLING_444, progressive: Bool = false
    ) throws -> Data {
        var options = ic_jpeg_options(
            quality: Int32(quality), subsampling: subsampling, color: ycck ? IC_JPEG_YCCK : IC_JPEG_DEFAULT,
            progressive: progressive ? 1 : 0, optimize_coding: 0)
        return try samples.withUnsafeBufferPointer { pixels in
            try collect {
                ic_encode_jpeg(pixels.baseAddress, Int32(width), Int32(height), width * components, Int32(components), &options, $0, $1, $2)
            }
        }
    }

    static func webp(rgba: [UInt8], width: Int, height: Int, lossless: Bool, quality: Float = 90) throws -> Data {
        try rgba.withUnsafeBufferPointer { pixels in
            try collect { ic_encode_webp(pixels.baseAddress, Int32(width), Int32(height), width * 4, 4, quality, lossless ? 1 : 0, $0, $1, $2) }
        }
    }

    // MARK: - Byte surgery

    /// A TIFF structure holding only an orientation tag, as EXIF stores it.
    static func exifTIFF(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        var tiff: [UInt8] = bigEndian ? Array("MM".utf8) : Array("II".utf8)
        tiff += u16(42) + u32(8)
        // IFD0: two entries (an unrelated one first, so the parser must walk), then no next IFD.
        tiff += u16(2)
        tiff += u16(0x010F) + u16(2) + u32(4) + Array("ACME".utf8)  // Make, ASCII, 4 bytes inline
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
        tiff += u32(0)
        return tiff
    }

    /// The JPEG with an APP1 Exif segment (orientation only) inserted right after SOI.
    static func injectingExif(into jpeg: Data, orientation: Int, bigEndian: Bool = true) -> Data {
        let payload = Array("Exif\0\0".utf8) + exifTIFF(orientation: orientation, bigEndian: bigEndian)
        let length = payload.count + 2
        var out = Data(jpeg.prefix(2))
        out.append(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload)
        out.append(jpeg.dropFirst(2))
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// A PNG chunk with its length and CRC.
    static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// The PNG with a chunk inserted right after IHDR.
    static func insertingChunk(into png: Data, type: String, data: [UInt8]) -> Data {
        let bytes = [UInt8](png)
        let afterHeader = 8 + 25
        return Data(bytes[..<afterHeader] + pngChunk(type, data) + bytes[afterHeader...])
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG that is only a header claiming `width`×`height` RGB pixels, one tiny IDAT and IEND.
    static func pngHeaderOnly(width: UInt32, height: UInt32) -> Data {
        let header = be32(width) + be32(height) + [8, 2, 0, 0, 0]
        // A valid zlib stream of one empty stored block: far too little data for the claimed size.
        let idat: [UInt8] = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01]
        return Data(pngSignature + pngChunk("IHDR", header) + pngChunk("IDAT", idat) + pngChunk("IEND", []))
    }

    // MARK: - Comparisons

    static func psnr(_ a: Image, _ b: Image) -> Double {
        precondition(a.size == b.size, "sizes differ")
        var squared = 0.0
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for index in 0..<x.count {
                    let d = Double(x[index]) - Double(y[index])
                    squared += d * d
                }
            }
        }
        let mse = squared / Double(a.byteCount)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    static func maxDifference(_ a: Image, _ b: Image) -> Int {
        precondition(a.size == b.size, "sizes differ")
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                zip(x, y).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
            }
        }
    }

    static func isClose(_ a: Pixel, _ b: Pixel, tolerance: Int) -> Bool {
        abs(Int(a.red) - Int(b.red)) <= tolerance && abs(Int(a.green) - Int(b.green)) <= tolerance
            && abs(Int(a.blue) - Int(b.blue)) <= tolerance
    }

    /// Checks each block's centre colour.
    static func expectBlocks(_ image: Image, _ colors: [[Pixel]], block: Int, tolerance: Int, _ context: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(image.width == colors[0].count * block && image.height == colors.count * block, "\(context): size \(image.size)", sourceLocation: sourceLocation)
        guard image.width == colors[0].count * block && image.height == colors.count * block else { return }
        for (row, line) in colors.enumerated() {
            for (column, expected) in line.enumerated() {
                let actual = image[column * block + block / 2, row * block + block / 2]
                #expect(isClose(actual, expected, tolerance: tolerance), "\(context): block (\(column), \(row)) is \(actual), expected \(expected)", sourceLocation: sourceLocation)
            }
        }
    }
}
