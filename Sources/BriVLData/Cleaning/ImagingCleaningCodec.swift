import Foundation
import Imaging

/// The cleaner's real codec: the Imaging target (libjpeg-turbo, libpng, libwebp).
///
/// `probe` reads the header and reports the upright size (after EXIF orientation). `verify` decodes every pixel —
/// which is what finds truncated and corrupt data (a premature end of data always fails; libjpeg's recoverable
/// "corrupt data" warnings fail too when `strict`) — and re-encodes the upright pixels as baseline JPEG (4:2:0), so
/// the EXIF orientation is applied once and for all. Images over `DecodeOptions.maxPixels` are refused from their
/// header (decompression bombs).
public struct ImagingCleaningCodec: CleaningImageCodec {
    public var decodeOptions: DecodeOptions

    public init(strict: Bool = false, maxPixels: Int? = DecodeOptions.defaultMaxPixels) {
        decodeOptions = DecodeOptions(maxPixels: maxPixels, applyExifOrientation: true, strict: strict)
    }

    public var identifier: String { "imaging-1" + (decodeOptions.strict ? "-strict" : "") }

    public func probe(_ data: Data) throws -> ImageProbe {
        do {
            let info = try ImageDecoder.probe(data: data)
            if let limit = decodeOptions.maxPixels, info.storedSize.pixelCount > limit {
                throw ImageProblem(.unsupported, "\(info.storedSize) exceeds the limit of \(limit) pixels")
            }
            guard let format = CleaningImageFormat(rawValue: info.format.rawValue) else {
                throw ImageProblem(.unknownFormat, "format \(info.format.name)")
            }
            return ImageProbe(format: format, width: info.uprightSize.width, height: info.uprightSize.height)
        } catch let error as ImageError {
            throw Self.problem(error)
        }
    }

    public func verify(_ data: Data, reencodingAsJPEG jpegQuality: Int?) throws -> Data? {
        do {
            let image = try ImageDecoder.decode(data: data, options: decodeOptions)
            guard let jpegQuality else { return nil }
            return try ImageEncoder.jpeg(image, quality: jpegQuality)
        } catch let error as ImageError {
            throw Self.problem(error)
        }
    }

    static func problem(_ error: ImageError) -> ImageProblem {
        let kind: ImageProblem.Kind
        switch error {
        case .empty: kind = .empty
        case .unknownFormat: kind = .unknownFormat
        case .truncated: kind = .truncated
        case .unsupported, .tooLarge: kind = .unsupported
        default: kind = .corrupt
        }
        return ImageProblem(kind, error.description)
    }
}
