import CImageCodecs
import Foundation

/// The containers we decode, recognised by their leading bytes (magic numbers), never by a file name.
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case jpeg
    case png
    case webp

    public var name: String {
        switch self {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .webp: return "WebP"
        }
    }

    public var description: String { name }

    /// The usual file extension.
    public var fileExtension: String {
        switch self {
        case .jpeg: return "jpg"
        case .png: return "png"
        case .webp: return "webp"
        }
    }

    /// The format whose signature starts `bytes`, or nil.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        guard let base = bytes.baseAddress else { return nil }
        return ImageFormat(code: ic_sniff(base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// The format whose signature starts `data` (a `Data`, `[UInt8]`, ...), or nil.
    public static func sniff(_ data: some ContiguousBytes) -> ImageFormat? {
        data.withUnsafeBytes { sniff($0) }
    }

    init?(code: ic_format) {
        switch code {
        case IC_FORMAT_JPEG: self = .jpeg
        case IC_FORMAT_PNG: self = .png
        case IC_FORMAT_WEBP: self = .webp
        default: return nil
        }
    }

    /// Signatures of formats we recognise but do not decode, for a helpful message.
    private static let foreignSignatures: [(prefix: [UInt8], name: String)] = [
        (Array("GIF87a".utf8), "GIF"), (Array("GIF89a".utf8), "GIF"), (Array("BM".utf8), "BMP"),
        ([0x49, 0x49, 0x2A, 0x00], "TIFF"), ([0x4D, 0x4D, 0x00, 0x2A], "TIFF"), ([0x00, 0x00, 0x01, 0x00], "ICO"),
        (Array("8BPS".utf8), "PSD"), ([0xFF, 0x0A], "JPEG XL"), ([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20], "JPEG XL"),
        (Array("<svg".utf8), "SVG"), (Array("<?xml".utf8), "SVG/XML"), (Array("%PDF".utf8), "PDF"),
    ]

    /// The error for bytes that are no format of ours: the signature in hex and, when we know it, the format's name.
    static func unknownFormatError(_ bytes: UnsafeRawBufferPointer) -> ImageError {
        if bytes.isEmpty { return .empty }
        let leading = Array(bytes.prefix(12))
        let signature = leading.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        var knownAs = foreignSignatures.first { leading.starts(with: $0.prefix) }?.name
        // ISO base media files: "....ftyp" then a brand.
        if knownAs == nil, leading.count >= 12, Array(leading[4..<8]) == Array("ftyp".utf8) {
            let brand = String(decoding: leading[8..<12], as: UTF8.self)
            knownAs = brand.hasPrefix("avi") ? "AVIF" : brand.hasPrefix("hei") || brand.hasPrefix("mif") ? "HEIF" : "MP4/ISO media"
        }
        return .unknownFormat(signature: signature, knownAs: knownAs)
    }

    /// Whether `bytes` are a strict prefix of one of our signatures (a file cut inside its first bytes).
    static func isTruncatedSignature(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        let leading = Array(bytes.prefix(12))
        let candidates: [(ImageFormat, [UInt8])] = [
            (.jpeg, [0xFF, 0xD8, 0xFF]), (.png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
            (.webp, Array("RIFF".utf8)),
        ]
        for (format, signature) in candidates where !leading.isEmpty {
            let length = min(leading.count, signature.count)
            if leading.count < (format == .webp ? 12 : signature.count), Array(leading.prefix(length)) == Array(signature.prefix(length)) {
                return format
            }
        }
        return nil
    }
}
