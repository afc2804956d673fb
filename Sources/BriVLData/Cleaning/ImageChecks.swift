import Foundation

/// The image formats the cleaner reads.
public enum CleaningImageFormat: String, Sendable, Codable {
    case jpeg, png, webp

    /// Formats that a sample file extension names.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "jpg", "jpeg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        default: return nil
        }
    }

    /// The format named by the leading bytes, whatever the file's extension says.
    public static func sniff(_ data: Data) -> CleaningImageFormat? {
        data.withUnsafeBytes { bytes in
            if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
            if bytes.count >= 8, Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
                return .png
            }
            if bytes.count >= 12, Array(bytes.prefix(4)) == Array("RIFF".utf8),
                Array(bytes[8..<12]) == Array("WEBP".utf8)
            {
                return .webp
            }
            return nil
        }
    }
}

/// What an image header says.
public struct ImageProbe: Sendable, Equatable {
    public var format: CleaningImageFormat
    public var width: Int
    public var height: Int

    public init(format: CleaningImageFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }
}

/// Why an image cannot be used.
public struct ImageProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case empty, unknownFormat = "unknown_format", truncated, corrupt, unsupported
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// What the cleaner needs from an image codec. The Imaging target provides the real one (libjpeg-turbo, libpng,
/// libwebp); ``StructuralImageCodec`` checks file structure without pixels; tests use stubs.
///
/// Implementations are called from several worker threads at once.
public protocol CleaningImageCodec: Sendable {
    /// Names the codec and its version, for the run fingerprint (a different codec may decide differently).
    var identifier: String { get }
    /// Format and stored size from the header alone (cheap).
    /// - Throws: ``ImageProblem`` when the data is not an image this codec reads.
    func probe(_ data: Data) throws -> ImageProbe
    /// Checks the whole image (finding truncated or corrupt data) and, when `jpegQuality` is given, returns it
    /// re-encoded as JPEG at that quality. Returns nil when no re-encoding was asked for or this codec cannot encode.
    /// - Throws: ``ImageProblem``.
    func verify(_ data: Data, reencodingAsJPEG jpegQuality: Int?) throws -> Data?
}

/// A pure-Swift codec that reads headers and walks the whole file structure without decoding pixels: JPEG markers to
/// EOI (through the entropy-coded scans), PNG chunks with their CRCs to IEND, WebP's RIFF chunks.
///
/// It catches empty, truncated and structurally corrupt files and wrong extensions, but not damage inside the
/// compressed data, and it cannot re-encode (``verify(_:reencodingAsJPEG:)`` returns nil). The Imaging codec
/// replaces it for real runs; it stays useful where pixels are not needed.
public struct StructuralImageCodec: CleaningImageCodec {
    public init() {}

    public var identifier: String { "structural-1" }

    public func probe(_ data: Data) throws -> ImageProbe {
        try inspect(data, full: false)
    }

    public func verify(_ data: Data, reencodingAsJPEG jpegQuality: Int?) throws -> Data? {
        _ = try inspect(data, full: true)
        return nil
    }

    func inspect(_ data: Data, full: Bool) throws -> ImageProbe {
        guard !data.isEmpty else { throw ImageProblem(.empty, "the image file is empty") }
        guard let format = CleaningImageFormat.sniff(data) else {
            throw ImageProblem(.unknownFormat, "the data is not JPEG, PNG or WebP")
        }
        return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> ImageProbe in
            let buffer = bytes.bindMemory(to: UInt8.self)
            switch format {
            case .jpeg: return try Self.jpeg(buffer, full: full)
            case .png: return try Self.png(buffer, full: full)
            case .webp: return try Self.webp(buffer, full: full)
            }
        }
    }

    private static func big16(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    private static func big32(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    private static func little16(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    private static func little24(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
    }

    private static func little32(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        little16(bytes, offset) | little16(bytes, offset + 2) << 16
    }

    static func jpeg(_ bytes: UnsafeBufferPointer<UInt8>, full: Bool) throws -> ImageProbe {
        let count = bytes.count
        var position = 2
        var size: (Int, Int)? = nil
        var sawScan = false
        while true {
            // Markers may be preceded by fill bytes (0xFF).
            guard position < count else { throw ImageProblem(.truncated, "JPEG data ends before the image does") }
            guard bytes[position] == 0xFF else {
                throw ImageProblem(.corrupt, "JPEG marker expected at byte \(position)")
            }
            while position < count && bytes[position] == 0xFF { position += 1 }
            guard position < count else { throw ImageProblem(.truncated, "JPEG data ends before the image does") }
            let marker = bytes[position]
            position += 1
            if marker == 0xD9 {
                guard sawScan, let size else { throw ImageProblem(.corrupt, "JPEG ends before any image data") }
                return ImageProbe(format: .jpeg, width: size.0, height: size.1)
            }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { continue }
            guard position + 2 <= count else { throw ImageProblem(.truncated, "JPEG data ends inside a marker") }
            let length = big16(bytes, position)
            guard length >= 2 else { throw ImageProblem(.corrupt, "JPEG segment length \(length) at byte \(position)") }
            guard position + length <= count else {
                throw ImageProblem(.truncated, "JPEG data ends inside a segment")
            }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard length >= 8 else { throw ImageProblem(.corrupt, "JPEG frame header too short") }
                let height = big16(bytes, position + 3), width = big16(bytes, position + 5)
                guard width > 0, height > 0 else {
                    throw ImageProblem(.unsupported, "JPEG frame of \(width)×\(height) pixels")
                }
                size = (width, height)
                if !full { return ImageProbe(format: .jpeg, width: width, height: height) }
            }
            position += length
            if marker == 0xDA {
                guard size != nil else { throw ImageProblem(.corrupt, "JPEG scan before the frame header") }
                sawScan = true
                // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart marker.
                while true {
                    while position < count && bytes[position] != 0xFF { position += 1 }
                    guard position + 1 < count else {
                        throw ImageProblem(.truncated, "JPEG data ends inside the image data")
                    }
                    let next = bytes[position + 1]
                    if next == 0x00 || (0xD0...0xD7).contains(next) || next == 0xFF {
                        position += next == 0xFF ? 1 : 2
                        continue
                    }
                    break
                }
            }
        }
    }

    private static let crcTable: [UInt32] = (0..<256).map { index -> UInt32 in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func png(_ bytes: UnsafeBufferPointer<UInt8>, full: Bool) throws -> ImageProbe {
        let count = bytes.count
        guard count >= 33 else { throw ImageProblem(.truncated, "PNG data ends inside the header") }
        guard big32(bytes, 8) == 13, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw ImageProblem(.corrupt, "PNG does not start with an IHDR chunk")
        }
        let width = big32(bytes, 16), height = big32(bytes, 20)
        guard width > 0, height > 0 else { throw ImageProblem(.corrupt, "PNG of \(width)×\(height) pixels") }
        let probe = ImageProbe(format: .png, width: width, height: height)
        if !full { return probe }
        var position = 8
        var sawData = false
        let table = crcTable
        while true {
            guard position + 12 <= count else { throw ImageProblem(.truncated, "PNG data ends before IEND") }
            let length = big32(bytes, position)
            guard length <= 0x7FFF_FFFF, position + 12 + length <= count else {
                throw ImageProblem(.truncated, "PNG data ends inside a chunk")
            }
            var crc: UInt32 = 0xFFFF_FFFF
            for index in (position + 4)..<(position + 8 + length) {
                crc = table[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
            }
            guard crc ^ 0xFFFF_FFFF == UInt32(big32(bytes, position + 8 + length)) else {
                throw ImageProblem(.corrupt, "PNG chunk CRC mismatch at byte \(position)")
            }
            let type = String(decoding: bytes[(position + 4)..<(position + 8)], as: UTF8.self)
            if type == "IDAT" { sawData = true }
            if type == "IEND" {
                guard sawData else { throw ImageProblem(.corrupt, "PNG has no image data") }
                return probe
            }
            position += 12 + length
        }
    }

    static func webp(_ bytes: UnsafeBufferPointer<UInt8>, full: Bool) throws -> ImageProbe {
        let count = bytes.count
        let riffEnd = 8 + little32(bytes, 4)
        guard riffEnd <= count else { throw ImageProblem(.truncated, "WebP data ends before its RIFF size") }
        var position = 12
        var probe: ImageProbe? = nil
        while position + 8 <= riffEnd {
            let type = String(decoding: bytes[position..<(position + 4)], as: UTF8.self)
            let length = little32(bytes, position + 4)
            let body = position + 8
            guard body + length <= riffEnd else { throw ImageProblem(.truncated, "WebP data ends inside a chunk") }
            switch type {
            case "VP8X" where length >= 10 && probe == nil:
                probe = ImageProbe(
                    format: .webp, width: little24(bytes, body + 4) + 1, height: little24(bytes, body + 7) + 1)
            case "VP8 " where length >= 10:
                guard bytes[body + 3] == 0x9D, bytes[body + 4] == 0x01, bytes[body + 5] == 0x2A else {
                    throw ImageProblem(.corrupt, "WebP VP8 start code missing")
                }
                if probe == nil {
                    probe = ImageProbe(
                        format: .webp, width: little16(bytes, body + 6) & 0x3FFF,
                        height: little16(bytes, body + 8) & 0x3FFF)
                }
            case "VP8L" where length >= 5:
                guard bytes[body] == 0x2F else { throw ImageProblem(.corrupt, "WebP VP8L signature missing") }
                let bits = little32(bytes, body + 1)
                if probe == nil {
                    probe = ImageProbe(format: .webp, width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
                }
            case "ANIM":
                throw ImageProblem(.unsupported, "animated WebP")
            default:
                break
            }
            if let probe, !full { return probe }
            position = body + length + (length & 1)
        }
        guard let probe, probe.width > 0, probe.height > 0 else {
            throw ImageProblem(.corrupt, "WebP has no image chunk")
        }
        return probe
    }
}

/// Scores how well a caption describes an image: the model's cosine similarity, in [-1, 1].
///
/// The model work implements this; the cleaner drops pairs below its threshold and uses the (rounded) score in the
/// dedup key. Called from several worker threads at once, so implementations must be thread-safe.
public protocol RelevanceScorer: Sendable {
    /// Names the model (checkpoint and version), for the run fingerprint.
    var identifier: String { get }
    /// Cosine similarity between the image (encoded bytes, as they will be written: JPEG after re-encoding) and the
    /// cleaned caption.
    func score(image: Data, text: String) throws -> Float
    /// Scores many pairs at once (a model batches them); by default one `score` call each.
    func scores(_ pairs: [(image: Data, text: String)]) throws -> [Float]
}

extension RelevanceScorer {
    public func scores(_ pairs: [(image: Data, text: String)]) throws -> [Float] {
        try pairs.map { try score(image: $0.image, text: $0.text) }
    }
}
