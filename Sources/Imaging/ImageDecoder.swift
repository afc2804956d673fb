import CImageCodecs
import Foundation

/// What becomes of transparency when decoding to RGB.
public enum AlphaHandling: Sendable, Equatable {
    /// Composite over opaque white, in the stored sRGB-encoded values: out = (c·a + 255·(255 − a)) / 255. What a
    /// viewer shows on a white page. Fully transparent pixels often hold arbitrary colour, which this hides.
    case compositeOnWhite
    /// Drop the alpha channel and keep the stored colour, as Pillow's `convert("RGB")` does.
    case drop
}

/// How JPEG DCT-domain downscaling may reduce a decode (see ``DecodeOptions/minimumSize``).
///
/// The default is ``powerOfTwo``: measured on photos decoded for 224-pixel crops, libjpeg-turbo's other reductions
/// (3/8, 5/8, 6/8, ...) run scalar inverse DCTs and made decoding slower than the full-size SIMD path, so they saved
/// nothing overall while discarding more detail.
public enum DCTScaling: Sendable, Equatable {
    /// Any M/8 for M = 1...8 (libjpeg-turbo's scaled inverse DCTs); the smallest decode that is large enough.
    case anyEighth
    /// Only 1/2, 1/4 and 1/8, the SIMD-accelerated reductions (Pillow's `draft` uses these).
    case powerOfTwo
    /// Always decode at full size.
    case disabled
}

/// How to decode.
public struct DecodeOptions: Sendable, Equatable {
    /// Pillow's default decompression-bomb threshold (`Image.MAX_IMAGE_PIXELS`, 1024·1024·1024 / 4 / 3 pixels):
    /// about 256 MiB of RGB.
    public static let defaultMaxPixels = 89_478_485

    /// Images with more pixels are refused from their header, before any pixel memory is allocated. nil: no limit.
    public var maxPixels: Int? = DecodeOptions.defaultMaxPixels
    /// Turn the pixels upright according to the EXIF orientation tag (JPEG APP1, PNG eXIf, WebP EXIF).
    public var applyExifOrientation = true
    /// A hint: the caller needs at least this size (upright, after orientation). A JPEG may then decode at a
    /// reduced DCT scale M/8 that still covers it, which is much faster for large photos. nil: full size.
    public var minimumSize: ImageSize? = nil
    /// Which DCT reductions the hint may use.
    public var dctScaling: DCTScaling = .powerOfTwo
    public var alpha: AlphaHandling = .compositeOnWhite
    /// Fail on any recoverable JPEG corruption warning too ("corrupt JPEG data: ..."). Premature end of data is
    /// always an error.
    public var strict = false
    /// Progressive JPEGs with more scans are refused (a known CPU-exhaustion vector).
    public var maxScans = 1000

    public init(
        maxPixels: Int? = DecodeOptions.defaultMaxPixels, applyExifOrientation: Bool = true,
        minimumSize: ImageSize? = nil, dctScaling: DCTScaling = .powerOfTwo, alpha: AlphaHandling = .compositeOnWhite,
        strict: Bool = false, maxScans: Int = 1000
    ) {
        self.maxPixels = maxPixels
        self.applyExifOrientation = applyExifOrientation
        self.minimumSize = minimumSize
        self.dctScaling = dctScaling
        self.alpha = alpha
        self.strict = strict
        self.maxScans = maxScans
    }

    /// The C options for a decode in stored orientation `orientation`.
    func codecOptions(orientation: ExifOrientation) -> ic_decode_options {
        var options = ic_decode_options()
        ic_decode_options_init(&options)
        options.max_pixels = UInt64(max(0, maxPixels ?? 0))
        options.alpha_mode = alpha == .drop ? IC_ALPHA_DROP : IC_ALPHA_COMPOSITE_WHITE
        options.strict = strict ? 1 : 0
        options.max_scans = Int32(clamping: max(1, maxScans))
        if let minimumSize, dctScaling != .disabled {
            // The hint is upright; the decoder works in stored orientation.
            let stored = applyExifOrientation && orientation.swapsAxes ? minimumSize.transposed : minimumSize
            options.min_width = Int32(clamping: max(1, stored.width))
            options.min_height = Int32(clamping: max(1, stored.height))
            options.power_of_two_scaling_only = dctScaling == .powerOfTwo ? 1 : 0
        }
        return options
    }
}

/// How the samples are stored in the file.
public enum ColorModel: String, Sendable, Equatable {
    case grey, greyAlpha, rgb, rgba, palette, yCbCr, cmyk, ycck, unknown

    init(code: ic_color) {
        switch code {
        case IC_COLOR_GRAY: self = .grey
        case IC_COLOR_GRAY_ALPHA: self = .greyAlpha
        case IC_COLOR_RGB: self = .rgb
        case IC_COLOR_RGBA: self = .rgba
        case IC_COLOR_PALETTE: self = .palette
        case IC_COLOR_YCBCR: self = .yCbCr
        case IC_COLOR_CMYK: self = .cmyk
        case IC_COLOR_YCCK: self = .ycck
        default: self = .unknown
        }
    }
}

/// What a file's header says, read without decoding its pixels.
public struct ImageInfo: Sendable, Equatable {
    public var format: ImageFormat
    /// The stored size (before EXIF orientation).
    public var storedSize: ImageSize
    public var orientation: ExifOrientation
    public var colorModel: ColorModel
    /// Bits per sample (1, 2, 4, 8, 12 or 16).
    public var bitDepth: Int
    public var hasAlpha: Bool
    /// Progressive JPEG or interlaced PNG.
    public var isProgressive: Bool
    public var isAnimated: Bool

    /// The size once the EXIF orientation is applied.
    public var uprightSize: ImageSize { orientation.swapsAxes ? storedSize.transposed : storedSize }

    init(_ info: ic_info) {
        format = ImageFormat(code: info.format) ?? .jpeg
        storedSize = ImageSize(width: Int(info.width), height: Int(info.height))
        orientation = ExifOrientation(rawValue: Int(info.orientation)) ?? .up
        colorModel = ColorModel(code: info.color)
        bitDepth = Int(info.bit_depth)
        hasAlpha = info.has_alpha != 0
        isProgressive = info.progressive != 0
        isAnimated = info.animated != 0
    }
}

/// A decode with what was learnt on the way.
public struct DecodedImage: Sendable {
    /// The pixels: upright when orientation was applied, reduced when DCT scaling applied.
    public var image: Image
    public var info: ImageInfo
    /// The orientation still to apply to `image` (`.up` when the decoder applied it).
    public var pendingOrientation: ExifOrientation
    /// The JPEG DCT scale used, as M of M/8 (8 = full size; always 8 for PNG and WebP).
    public var dctScale: Int
    /// Recoverable corruption the decoder worked around (libjpeg warnings, libpng benign errors).
    public var warnings: Int
}

/// Decoding of JPEG, PNG and WebP to 8-bit RGB. Every function is thread-safe.
public enum ImageDecoder {
    /// Reads the header only: format, stored size, EXIF orientation, colour model.
    public static func probe(data: some ContiguousBytes) throws -> ImageInfo {
        try data.withUnsafeBytes { try probe(bytes: $0) }
    }

    public static func probe(bytes: UnsafeRawBufferPointer) throws -> ImageInfo {
        var info = ic_info()
        var error = ic_error()
        let status = ic_probe(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info, &error)
        if status != IC_OK { throw translate(status, error: error, info: info, bytes: bytes, limit: 0) }
        return ImageInfo(info)
    }

    /// Decodes to upright (by default) 8-bit RGB.
    public static func decode(data: some ContiguousBytes, options: DecodeOptions = DecodeOptions()) throws -> Image {
        try decodeDetailed(data: data, options: options).image
    }

    /// Reads and decodes a file; the format comes from its bytes, whatever its name.
    public static func decode(contentsOf path: String, options: DecodeOptions = DecodeOptions()) throws -> Image {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError.io(path: path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        return try decode(data: data, options: options)
    }

    /// Decodes, and reports the header, the DCT scale used and the warnings.
    public static func decodeDetailed(
        data: some ContiguousBytes, options: DecodeOptions = DecodeOptions()
    ) throws -> DecodedImage {
        try data.withUnsafeBytes { try decodeDetailed(bytes: $0, options: options) }
    }

    public static func decodeDetailed(bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()) throws
        -> DecodedImage
    {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        // The orientation decides how an upright size hint maps onto the stored image, so read the header first
        // when there is a hint (a cheap walk over the markers; the decoder reads it again).
        var orientation = ExifOrientation.up
        if options.minimumSize != nil && options.applyExifOrientation {
            orientation = try probe(bytes: bytes).orientation
        }
        var codecOptions = options.codecOptions(orientation: orientation)
        var pixels: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0
        var height: Int32 = 0
        var info = ic_info()
        var error = ic_error()
        let status = ic_decode_rgb(base, bytes.count, &codecOptions, &pixels, &width, &height, &info, &error)
        guard status == IC_OK, let pixels else {
            throw translate(status, error: error, info: info, bytes: bytes, limit: options.maxPixels ?? 0)
        }
        let storage = PixelStorage(adopting: pixels, count: Int(width) * Int(height) * 3)
        let decoded = Image(width: Int(width), height: Int(height), storage: storage)
        let header = ImageInfo(info)
        let stored = header.storedSize
        let decodedWidth = Int(width), decodedHeight = Int(height)
        var scale = 8
        for m in 1...8 where (stored.width * m + 7) / 8 == decodedWidth && (stored.height * m + 7) / 8 == decodedHeight {
            scale = m
            break
        }
        let apply = options.applyExifOrientation && header.orientation != .up
        return DecodedImage(
            image: apply ? decoded.oriented(header.orientation) : decoded, info: header,
            pendingOrientation: options.applyExifOrientation ? .up : header.orientation, dctScale: scale,
            warnings: Int(error.warnings))
    }

    /// The error for a failed C call.
    static func translate(
        _ status: ic_status, error: ic_error, info: ic_info, bytes: UnsafeRawBufferPointer, limit: Int
    ) -> ImageError {
        var error = error
        let reason = withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if bytes.isEmpty { return .empty }
        guard let format = ImageFormat.sniff(bytes) else {
            if let format = ImageFormat.isTruncatedSignature(bytes) {
                return .truncated(format: format, reason: "the data ends inside the signature (\(bytes.count) bytes)")
            }
            return ImageFormat.unknownFormatError(bytes)
        }
        switch status {
        case IC_ERROR_TRUNCATED: return .truncated(format: format, reason: reason)
        case IC_ERROR_TOO_LARGE:
            return .tooLarge(format: format, width: Int(info.width), height: Int(info.height), limit: limit)
        case IC_ERROR_UNSUPPORTED: return .unsupported(format: format, reason: reason)
        case IC_ERROR_OUT_OF_MEMORY: return .outOfMemory(format: format, reason: reason)
        case IC_ERROR_INVALID_ARGUMENT: return .invalidArgument(reason)
        default: return .corrupt(format: format, reason: reason)
        }
    }
}

extension Image {
    /// Decodes JPEG, PNG or WebP data (see ``ImageDecoder``).
    public init(decoding data: some ContiguousBytes, options: DecodeOptions = DecodeOptions()) throws {
        self = try ImageDecoder.decode(data: data, options: options)
    }
}
