import Foundation

/// One regular file in a tar archive.
public struct TarEntry: Sendable, Equatable {
    public var name: String
    public var data: Data
    /// Modification time, seconds since 1970.
    public var modificationTime: Int

    public init(name: String, data: Data, modificationTime: Int = 0) {
        self.name = name
        self.data = data
        self.modificationTime = modificationTime
    }
}

/// Writes POSIX ustar archives: 512-byte headers, data padded to 512 bytes, two zero blocks at the end.
///
/// Names up to 255 bytes are stored with the ustar prefix field; longer names are refused (WebDataset keys are short).
public final class TarWriter {
    static let blockSize = 512
    private let handle: FileHandle
    public let path: String
    /// Bytes written so far.
    public private(set) var offset = 0
    private var finished = false

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw DataError.io(file: path, message: "cannot create the file")
        }
        self.handle = handle
        self.path = path
    }

    deinit {
        try? handle.close()
    }

    public func append(_ entry: TarEntry) throws {
        precondition(!finished, "append after finish")
        var header = try TarHeader.encode(name: entry.name, size: entry.data.count, modificationTime: entry.modificationTime)
        let padding = (Self.blockSize - entry.data.count % Self.blockSize) % Self.blockSize
        var block = Data(capacity: header.count + entry.data.count + padding)
        block.append(contentsOf: header)
        block.append(entry.data)
        block.append(Data(count: padding))
        header.removeAll()
        try write(block)
    }

    /// Writes the end-of-archive marker and flushes to disk.
    public func finish() throws {
        guard !finished else { return }
        try write(Data(count: 2 * Self.blockSize))
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw DataError.io(file: path, message: "\(error)")
        }
        finished = true
    }

    private func write(_ data: Data) throws {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw DataError.io(file: path, message: "write failed: \(error)")
        }
        offset += data.count
    }
}

/// Reads tar archives entry by entry without loading the whole file: ustar, GNU long names (`L`) and pax extended
/// headers (`x`, for `path`). Directories and other non-file entries are skipped.
public final class TarReader {
    public let path: String
    private let handle: FileHandle
    /// Byte offset of the next header.
    public private(set) var offset = 0
    /// The name of the entry whose data was cut off, after `next()` threw a truncation inside it.
    public private(set) var interruptedEntryName: String? = nil
    private var ended = false

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError.io(file: path, message: "cannot open the file")
        }
        self.handle = handle
        self.path = path
    }

    deinit {
        try? handle.close()
    }

    /// The next regular file, or nil at the end of the archive.
    /// - Throws: `DataError.truncatedArchive` or `.corruptHeader`; after an error the reader stays at the bad
    ///   header, so callers stop there.
    public func next() throws -> TarEntry? {
        var overrideName: String? = nil
        while !ended {
            let headerOffset = offset
            let block = try read(TarWriter.blockSize, allowEndOfFile: true)
            guard let block else {
                // A missing end marker is tolerated (many writers omit it) only at a block boundary.
                ended = true
                return nil
            }
            if block.allSatisfy({ $0 == 0 }) {
                ended = true
                return nil
            }
            let header = try TarHeader.decode(block, file: path, offset: headerOffset)
            interruptedEntryName = overrideName ?? header.name
            let data = try read(header.size, allowEndOfFile: false)!
            let padding = (TarWriter.blockSize - header.size % TarWriter.blockSize) % TarWriter.blockSize
            _ = try read(padding, allowEndOfFile: false)
            interruptedEntryName = nil
            switch header.type {
            case "0", "\0", "7":
                return TarEntry(name: overrideName ?? header.name, data: data, modificationTime: header.modificationTime)
            case "L":
                overrideName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
            case "x":
                if let path = TarHeader.paxPath(data) { overrideName = path }
            default:
                overrideName = nil  // directories, links, global headers: nothing to yield
            }
        }
        return nil
    }

    /// Reads exactly `count` bytes; nil only when `allowEndOfFile` and the file ends exactly here.
    private func read(_ count: Int, allowEndOfFile: Bool) throws -> Data? {
        if count == 0 { return Data() }
        let data: Data
        do {
            data = try handle.read(upToCount: count) ?? Data()
        } catch {
            throw DataError.io(file: path, message: "read failed: \(error)")
        }
        if data.isEmpty && allowEndOfFile { return nil }
        guard data.count == count else { throw DataError.truncatedArchive(file: path, offset: offset + data.count) }
        offset += count
        return data
    }
}

/// The ustar header layout.
enum TarHeader {
    struct Fields {
        var name: String
        var size: Int
        var modificationTime: Int
        var type: Character
    }

    static func encode(name: String, size: Int, modificationTime: Int) throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: TarWriter.blockSize)
        let bytes = Array(name.utf8)
        var namePart = bytes
        var prefixPart: [UInt8] = []
        if bytes.count > 100 {
            // Split at a '/' so the prefix (≤ 155) and name (≤ 100) fields hold it.
            guard bytes.count <= 255,
                let slash = bytes.indices.last(where: { bytes[$0] == UInt8(ascii: "/") && $0 <= 155 && bytes.count - $0 - 1 <= 100 })
            else {
                throw DataError.invalidSample(key: name, reason: "name longer than a ustar header can hold")
            }
            prefixPart = Array(bytes[..<slash])
            namePart = Array(bytes[(slash + 1)...])
        }
        func put(_ field: [UInt8], at start: Int) { for (i, byte) in field.enumerated() { header[start + i] = byte } }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            Array(String(String(value, radix: 8).suffix(width - 1)).leftPadded(to: width - 1).utf8) + [0]
        }
        guard size < 0o77777777777 else {
            throw DataError.invalidSample(key: name, reason: "file of \(size) bytes exceeds the ustar size field")
        }
        put(namePart, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(max(0, modificationTime), width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(prefixPart, at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(String(checksum, radix: 8)).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148)
        return header
    }

    static func decode(_ block: Data, file: String, offset: Int) throws -> Fields {
        let bytes = [UInt8](block)
        func corrupt(_ reason: String) -> DataError { .corruptHeader(file: file, offset: offset, reason: reason) }
        func string(_ range: Range<Int>) -> String {
            String(decoding: bytes[range].prefix { $0 != 0 }, as: UTF8.self)
        }
        func number(_ range: Range<Int>, _ field: String) throws -> Int {
            // GNU base-256 for large values: high bit of the first byte set.
            if bytes[range.lowerBound] & 0x80 != 0 {
                return bytes[range].dropFirst().reduce(Int(bytes[range.lowerBound] & 0x7f)) { $0 << 8 | Int($1) }
            }
            let text = string(range).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            if text.isEmpty { return 0 }
            guard let value = Int(text, radix: 8) else { throw corrupt("\(field) field is not octal: \(text)") }
            return value
        }
        let stored = try number(148..<156, "checksum")
        var unsigned = 0
        for (index, byte) in bytes.enumerated() { unsigned += (148..<156).contains(index) ? 32 : Int(byte) }
        guard stored == unsigned else { throw corrupt("checksum \(stored) does not match \(unsigned)") }
        let size = try number(124..<136, "size")
        guard size >= 0 else { throw corrupt("negative size") }
        var name = string(0..<100)
        if string(257..<262) == "ustar" {
            let prefix = string(345..<500)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        return Fields(
            name: name, size: size, modificationTime: try number(136..<148, "mtime"),
            type: Character(UnicodeScalar(bytes[156])))
    }

    /// The `path` record of a pax extended header ("<length> path=<value>\n" records).
    static func paxPath(_ data: Data) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        for record in text.split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let pair = record[record.index(after: space)...]
            if pair.hasPrefix("path=") { return String(pair.dropFirst(5)) }
        }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
