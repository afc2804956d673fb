import CZlib

/// A `.gz` file that could not be inflated: its name and what is wrong with it.
public struct GzipError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var reason: String

    public var description: String { "\(file): \(reason)" }
}

/// gzip decompression through the system zlib, for data shipped as `.gz` files (Fashion-MNIST's idx files, CLIP's
/// BPE merges).
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates every member of a gzip file (`cat a.gz b.gz` is a valid gzip file too). `file` names the input in
    /// errors: truncated or corrupt data throws ``GzipError`` rather than returning a silently short result.
    public static func decompress(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        guard bytes.count <= Int(UInt32.max) else {
            throw GzipError(file: file, reason: "gzip files over 4 GiB are not supported")
        }
        var output: [UInt8] = []
        // The trailer's last four bytes hold the uncompressed size modulo 2^32: a good first capacity.
        if bytes.count >= 18 {
            let tail = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            output.reserveCapacity(min(tail, 1 << 30))
        }
        var stream = z_stream()
        guard czlib_inflate_init(&stream) == Z_OK else {
            throw GzipError(file: file, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(chunkSize)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunkSize - Int(stream.avail_out))])
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let consumed = input.count - Int(stream.avail_in)
                    if stream.avail_in == 0 { return }
                    guard Gzip.isCompressed(Array(input[consumed..<min(consumed + 2, input.count)])) else {
                        throw GzipError(
                            file: file, reason: "\(stream.avail_in) bytes after the end of the gzip data are not gzip")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR:
                    // Fresh output space every round, so no progress means the input ran out mid-stream.
                    throw GzipError(
                        file: file, reason: "gzip data is truncated (it ends before its compressed stream does)")
                default:
                    let detail = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    throw GzipError(file: file, reason: "corrupt gzip data: \(detail)")
                }
            }
        }
        return output
    }
}
