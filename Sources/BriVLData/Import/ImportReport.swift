import Foundation

/// What an import did: every input pair is either written or rejected with a reason, and the counts add up.
public struct ImportReport: Codable, Sendable, Equatable {
    /// Pairs (image + its captions) found in the input.
    public var inputs = 0
    /// Pairs written to shards.
    public var written = 0
    /// Rejected pairs by reason.
    public var rejected: [String: Int] = [:]
    /// Caption lines that could not be parsed (not pairs: they never named a usable image).
    public var invalidCaptionLines = 0
    public var shards: [ShardIndex.Shard] = []

    public var rejectedCount: Int { rejected.values.reduce(0, +) }

    public init() {}

    mutating func reject(_ reason: RejectReason) {
        rejected[reason.rawValue, default: 0] += 1
    }
}

/// Why an input pair was not imported.
public enum RejectReason: String, Codable, Sendable, CaseIterable {
    case imageMissing = "image_missing"
    case imageEmpty = "image_empty"
    case notAnImage = "not_an_image"
    case imageUnreadable = "image_unreadable"
    case noCaption = "no_caption"
    case invalidBase64 = "invalid_base64"
    case duplicateImage = "duplicate_image"
}

/// One rejected input, written to the rejects list so nothing is lost silently.
public struct RejectedInput: Codable, Sendable, Equatable {
    public var source: String
    public var reason: RejectReason
    public var detail: String?
}

/// Image container formats recognised by their first bytes, whatever the file is called.
public enum SniffedImageFormat: String, Sendable {
    case jpeg = "jpg"
    case png = "png"
    case webp = "webp"

    public init?(_ data: Data) {
        let bytes = [UInt8](data.prefix(12))
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            self = .webp
        } else {
            return nil
        }
    }
}

/// Appends rejected inputs as JSON lines.
final class RejectsLog {
    private let handle: FileHandle?
    let path: String

    init(path: String?) throws {
        guard let path else {
            handle = nil
            self.path = ""
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
        else {
            throw DataError.io(file: path, message: "cannot create the rejects list")
        }
        self.handle = handle
        self.path = path
    }

    func record(_ input: RejectedInput) throws {
        guard let handle else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try handle.write(contentsOf: encoder.encode(input) + Data("\n".utf8))
        } catch {
            throw DataError.io(file: path, message: "cannot write: \(error)")
        }
    }

    deinit { try? handle?.close() }
}
