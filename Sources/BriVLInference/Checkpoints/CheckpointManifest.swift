import ContentHashing
import Foundation

/// `manifest.json` of a checkpoint folder: every other file with its size and checksum.
///
/// It is written last, inside the temporary folder, before the folder is renamed into place; so a `step-…` folder
/// with a readable manifest is complete, and the sizes and checksums let a reader tell a damaged file from a good one.
public struct CheckpointManifest: Codable, Equatable, Sendable {
    public static let fileName = "manifest.json"
    /// The layout version this code writes and understands.
    public static let currentFormat = 1
    /// ``BriVLData/ContentHash`` (128 bits, 32 hex digits) of each file's bytes.
    public static let checksumAlgorithm = "content-hash-128"

    public struct File: Codable, Equatable, Sendable {
        public var name: String
        public var bytes: Int
        public var checksum: String

        public init(name: String, bytes: Int, checksum: String) {
            self.name = name
            self.bytes = bytes
            self.checksum = checksum
        }
    }

    public var format: Int
    public var step: Int
    public var checksumAlgorithm: String
    /// Sorted by name.
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case format, step, files
        case checksumAlgorithm = "checksum_algorithm"
    }

    public init(step: Int, files: [File]) {
        format = Self.currentFormat
        self.step = step
        checksumAlgorithm = Self.checksumAlgorithm
        self.files = files.sorted { $0.name < $1.name }
    }

    public func file(named name: String) -> File? { files.first { $0.name == name } }
}

/// Size and checksum of a file, read in blocks.
enum FileChecksum {
    static let blockSize = 1 << 20

    /// Reads the whole file; with `synchronize`, also flushes it to the disk (fsync works on a read-only descriptor),
    /// so the bytes summed are the bytes that will be there after a crash.
    static func measure(_ path: String, synchronize: Bool = false) throws -> (bytes: Int, checksum: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw DurableFiles.failure("cannot open", path) }
        defer { close(descriptor) }
        var hasher = StreamingContentHasher()
        var total = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, blockSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw DurableFiles.failure("cannot read", path)
            }
            if count == 0 { break }
            hasher.combine(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += count
        }
        if synchronize && fsync(descriptor) != 0 { throw DurableFiles.failure("cannot flush", path) }
        return (total, hasher.finalize().description)
    }
}
