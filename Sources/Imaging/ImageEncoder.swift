import CImageCodecs
import Foundation

/// Chroma subsampling of a JPEG (how much colour resolution is kept relative to brightness).
public enum ChromaSubsampling: Sendable, Equatable {
    /// Colour at half resolution both ways (the usual photo setting, smallest files).
    case yuv420
    /// Colour at half horizontal resolution.
    case yuv422
    /// Full colour resolution.
    case yuv444

    var code: ic_subsampling {
        switch self {
        case .yuv420: return IC_SUBSAMPLING_420
        case .yuv422: return IC_SUBSAMPLING_422
        case .yuv444: return IC_SUBSAMPLING_444
        }
    }
}

/// Encoding of RGB images as JPEG, PNG or WebP. Every function is thread-safe.
public enum ImageEncoder {
    /// Baseline (or progressive) JPEG at `quality` 1...100.
    public static func jpeg(
        _ image: Image, quality: Int = 90, subsampling: ChromaSubsampling = .yuv420, progressive: Bool = false,
        optimizeCoding: Bool = false
    ) throws -> Data {
        guard (1...100).contains(quality) else { throw ImageError.invalidArgument("JPEG quality \(quality) is not in 1...100") }
        var options = ic_jpeg_options(
            quality: Int32(quality), subsampling: subsampling.code, color: IC_JPEG_DEFAULT, progressive: progressive ? 1 : 0,
            optimize_coding: optimizeCoding ? 1 : 0)
        return try image.withUnsafeBufferPointer { pixels in
            try collect(.jpeg) { output, size, error in
                ic_encode_jpeg(
                    pixels.baseAddress, Int32(image.width), Int32(image.height), image.rowBytes, 3, &options, output, size,
                    error)
            }
        }
    }

    /// Lossless 8-bit RGB PNG; `compressionLevel` is zlib's 0...9.
    public static func png(_ image: Image, compressionLevel: Int = 6, interlaced: Bool = false) throws -> Data {
        guard (0...9).contains(compressionLevel) else {
            throw ImageError.invalidArgument("PNG compression level \(compressionLevel) is not in 0...9")
        }
        var options = ic_png_options()
        options.color = IC_COLOR_RGB
        options.bit_depth = 8
        options.compression_level = Int32(compressionLevel)
        options.interlaced = interlaced ? 1 : 0
        return try image.withUnsafeBufferPointer { pixels in
            try collect(.png) { output, size, error in
                ic_encode_png(pixels.baseAddress, Int32(image.width), Int32(image.height), image.rowBytes, &options, output, size, error)
            }
        }
    }

    /// WebP: lossy at `quality` 0...100, or lossless.
    public static func webp(_ image: Image, quality: Double = 90, lossless: Bool = false) throws -> Data {
        guard (0...100).contains(quality) else { throw ImageError.invalidArgument("WebP quality \(quality) is not in 0...100") }
        return try image.withUnsafeBufferPointer { pixels in
            try collect(.webp) { output, size, error in
                ic_encode_webp(
                    pixels.baseAddress, Int32(image.width), Int32(image.height), image.rowBytes, 3, Float(quality),
                    lossless ? 1 : 0, output, size, error)
            }
        }
    }

    /// Runs a C encoder and moves its malloc'd output into `Data` (which frees it).
    static func collect(
        _ format: ImageFormat,
        _ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<ic_error>)
            -> ic_status
    ) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = ic_error()
        let status = encode(&output, &size, &error)
        guard status == IC_OK, let output else {
            let reason = withUnsafeBytes(of: &error.message) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if status == IC_ERROR_INVALID_ARGUMENT { throw ImageError.invalidArgument(reason) }
            throw ImageError.encodingFailed(format: format, reason: reason)
        }
        return Data(bytesNoCopy: output, count: size, deallocator: .free)
    }
}

extension Image {
    /// The image as a JPEG file.
    public func jpegData(quality: Int = 90, subsampling: ChromaSubsampling = .yuv420) throws -> Data {
        try ImageEncoder.jpeg(self, quality: quality, subsampling: subsampling)
    }

    /// The image as a PNG file.
    public func pngData(compressionLevel: Int = 6) throws -> Data {
        try ImageEncoder.png(self, compressionLevel: compressionLevel)
    }
}
