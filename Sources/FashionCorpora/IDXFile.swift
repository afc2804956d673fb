import BriVLData
import Foundation
import GzipFiles

/// An IDX file, the format of MNIST and Fashion-MNIST: a 4-byte magic number (two zero bytes, the element type, the
/// number of dimensions), one big-endian 32-bit size per dimension, then the values in row-major order.
///
/// Only unsigned bytes (element type 0x08) are read — the type of every (Fashion-)MNIST file — so an image file has
/// magic 0x00000803 and a label file 0x00000801. Everything the header promises is checked against the bytes, so a
/// truncated download fails here with the sizes involved instead of yielding images cut short.
public struct IDXFile: Sendable, Equatable {
    /// Sizes of the dimensions, outermost first (e.g. `[count, rows, columns]`).
    public let dimensions: [Int]
    /// The values, row-major.
    public let values: [UInt8]

    /// The magic number of the file: 0x0800 plus the number of dimensions.
    public var magic: UInt32 { 0x0800 | UInt32(dimensions.count) }

    /// Parses the bytes of an IDX file, gzip-compressed or not; `file` names it in errors.
    public init(bytes raw: [UInt8], file: String) throws {
        let bytes: [UInt8]
        do {
            bytes = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, file: file) : raw
        } catch let error as GzipError {
            throw DataError.invalidFile(file: error.file, reason: error.reason)
        }
        func invalid(_ reason: String) -> DataError { .invalidFile(file: file, reason: reason) }
        guard bytes.count >= 4 else {
            throw invalid("truncated: \(bytes.count) bytes, but an idx header needs at least 4")
        }
        let magic = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let hexMagic = String(format: "0x%08X", magic)
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw invalid("not an idx file: magic number \(hexMagic) does not start with two zero bytes")
        }
        guard bytes[2] == 0x08 else {
            let known: [UInt8: String] = [
                0x09: "signed bytes", 0x0B: "16-bit integers", 0x0C: "32-bit integers", 0x0D: "floats", 0x0E: "doubles",
            ]
            guard let name = known[bytes[2]] else {
                throw invalid("not an idx file: magic number \(hexMagic) names no idx element type")
            }
            throw invalid("idx files of \(name) (magic \(hexMagic)) are not supported, only unsigned bytes (0x08)")
        }
        let rank = Int(bytes[3])
        guard rank > 0 else { throw invalid("idx header declares no dimensions (magic \(hexMagic))") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw invalid("truncated: \(bytes.count) bytes, but the header of \(rank) dimensions needs \(headerSize)")
        }
        var dimensions: [Int] = []
        var count = 1
        for axis in 0..<rank {
            let size = bytes[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
            dimensions.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw invalid("dimensions \(dimensions) overflow") }
            count = product
        }
        let payload = bytes.count - headerSize
        let shape = dimensions.map(String.init).joined(separator: "×")
        guard payload >= count else {
            throw invalid("truncated: the header declares \(shape) = \(count) values, but only \(payload) bytes follow it")
        }
        guard payload == count else {
            throw invalid("the header declares \(shape) = \(count) values, but \(payload - count) more bytes follow them")
        }
        self.dimensions = dimensions
        self.values = Array(bytes[headerSize...])
    }

    /// Reads an IDX file, gzip-compressed or not (told by its content, not its name).
    public static func read(path: String) throws -> IDXFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw DataError.io(file: path, message: reason)
        }
        return try IDXFile(bytes: [UInt8](data), file: path)
    }
}
