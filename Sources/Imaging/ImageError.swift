/// Everything that can go wrong in the Imaging target: one enum, each case carrying the format and a reason, so a
/// loader can count failures by kind and still print something a person can act on.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input holds no bytes at all (a zero-byte file).
    case empty
    /// The leading bytes match no format we decode. `signature` shows them in hex; `knownAs` names a format we
    /// recognise but do not decode (GIF, BMP, TIFF, HEIF/AVIF, ...), when it is one.
    case unknownFormat(signature: String, knownAs: String?)
    /// The data ends before the image does.
    case truncated(format: ImageFormat, reason: String)
    /// The data is malformed.
    case corrupt(format: ImageFormat, reason: String)
    /// width × height exceeds the pixel limit (a decompression bomb or an absurdly large file); refused before any
    /// pixel memory was allocated.
    case tooLarge(format: ImageFormat, width: Int, height: Int, limit: Int)
    /// A well-formed file using a feature we do not decode (animation, 12-bit or lossless JPEG, ...).
    case unsupported(format: ImageFormat, reason: String)
    case outOfMemory(format: ImageFormat, reason: String)
    /// Encoding failed (the reason is the encoder's).
    case encodingFailed(format: ImageFormat, reason: String)
    /// A caller's argument is out of range (a crop larger than allowed, a zero size, mismatched pixel counts, ...).
    case invalidArgument(String)
    /// Reading or writing a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .empty: return "empty input (0 bytes)"
        case .unknownFormat(let signature, let knownAs):
            if let knownAs { return "\(knownAs) images are not supported (signature \(signature))" }
            return "not a JPEG, PNG or WebP image (signature \(signature))"
        case .truncated(let format, let reason): return "truncated \(format.name): \(reason)"
        case .corrupt(let format, let reason): return "corrupt \(format.name): \(reason)"
        case .tooLarge(let format, let width, let height, let limit):
            return "\(format.name) of \(width)x\(height) = \(width * height) pixels exceeds the limit of \(limit) pixels"
        case .unsupported(let format, let reason): return "unsupported \(format.name): \(reason)"
        case .outOfMemory(let format, let reason): return "out of memory decoding \(format.name): \(reason)"
        case .encodingFailed(let format, let reason): return "\(format.name) encoding failed: \(reason)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        case .io(let path, let reason): return "\(path): \(reason)"
        }
    }

    /// A short stable name of the case, for counters and JSON ("truncated", "too_large", ...).
    public var kind: String {
        switch self {
        case .empty: return "empty"
        case .unknownFormat: return "unknown_format"
        case .truncated: return "truncated"
        case .corrupt: return "corrupt"
        case .tooLarge: return "too_large"
        case .unsupported: return "unsupported"
        case .outOfMemory: return "out_of_memory"
        case .encodingFailed: return "encoding_failed"
        case .invalidArgument: return "invalid_argument"
        case .io: return "io"
        }
    }
}
