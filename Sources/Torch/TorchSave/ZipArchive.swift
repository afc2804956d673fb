/// The records of a zip archive whose records are stored (not compressed), as torch.save writes them: the central
/// directory is read, ZIP64 fields included, and each record is a byte range of the mapped file — nothing is copied.
///
/// Every offset and length is checked against the file before use, so a truncated or corrupt archive is an error
/// naming what is wrong, never a read outside the mapping.
struct ZipArchive {
    struct Record: Equatable {
        let name: String
        /// Where the record's bytes lie in the file (compressed, when `method` is not 0).
        let range: Range<Int>
        /// 0: stored; anything else (8: deflate) is compressed, which torch.save never writes.
        let method: UInt16
        let isEncrypted: Bool

        /// The byte range of a stored record; an error for a compressed or encrypted one.
        func storedRange() throws(ZipError) -> Range<Int> {
            guard !isEncrypted else { throw .unsupported("record \(name) is encrypted") }
            guard method == 0 else {
                throw .unsupported(
                    "record \(name) is compressed (method \(method)); torch.save stores its records uncompressed — "
                        + "load and save the file again with torch.save")
            }
            return range
        }
    }

    /// The records in the order of the central directory.
    let records: [Record]
    private let byName: [String: Record]

    subscript(name: String) -> Record? { byName[name] }

    private static let endOfDirectorySignature: UInt32 = 0x0605_4b50
    private static let zip64EndOfDirectorySignature: UInt32 = 0x0606_4b50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4b50
    private static let directoryEntrySignature: UInt32 = 0x0201_4b50
    private static let localHeaderSignature: UInt32 = 0x0403_4b50
    /// The end-of-directory record: 22 bytes and a comment of at most 65,535.
    private static let endOfDirectorySize = 22
    private static let maximumCommentSize = 65_535

    /// Whether `bytes` begins as a zip archive's first local header does.
    static func looksLikeZip(_ bytes: ByteReader) -> Bool {
        (try? bytes.uint32(at: 0)) == localHeaderSignature
    }

    init(_ bytes: ByteReader) throws(ZipError) {
        let directory = try Self.findDirectory(bytes)
        var records: [Record] = []
        var byName: [String: Record] = [:]
        var position = directory.offset
        let directoryEnd = directory.offset + directory.size
        for index in 0..<directory.count {
            guard position + 46 <= directoryEnd else {
                throw .corrupt("the central directory ends inside entry \(index) of \(directory.count)")
            }
            let record = try Self.readEntry(bytes, at: &position, directoryEnd: directoryEnd)
            guard byName[record.name] == nil else { throw .corrupt("two records are named \(record.name)") }
            byName[record.name] = record
            records.append(record)
        }
        self.records = records
        self.byName = byName
    }

    private struct Directory {
        let offset: Int
        let size: Int
        let count: Int
    }

    /// Finds the end-of-directory record from the end of the file, then the ZIP64 record when a field is saturated.
    private static func findDirectory(_ bytes: ByteReader) throws(ZipError) -> Directory {
        let size = bytes.count
        guard size >= endOfDirectorySize else { throw .notZip("\(size) bytes is too short for a zip archive") }
        let lowest = max(0, size - endOfDirectorySize - maximumCommentSize)
        var candidate = size - endOfDirectorySize
        var found: Int? = nil
        while candidate >= lowest {
            if (try? bytes.uint32(at: candidate)) == endOfDirectorySignature,
                let commentLength = try? bytes.uint16(at: candidate + 20),
                candidate + endOfDirectorySize + Int(commentLength) == size
            {
                found = candidate
                break
            }
            candidate -= 1
        }
        guard let end = found else {
            throw .notZip("no end-of-directory record: the file is truncated or not a zip archive")
        }
        var count = Int(try field16(bytes, end + 10))
        var directorySize = Int(try field32(bytes, end + 12))
        var directoryOffset = Int(try field32(bytes, end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locator = end - 20
            guard locator >= 0, (try? bytes.uint32(at: locator)) == zip64LocatorSignature else {
                throw .corrupt("the end-of-directory record is saturated but no ZIP64 locator precedes it")
            }
            let record = try fileOffset(try field64(bytes, locator + 8), in: bytes, what: "ZIP64 record")
            guard (try? bytes.uint32(at: record)) == zip64EndOfDirectorySignature else {
                throw .corrupt("no ZIP64 end-of-directory record at byte \(record)")
            }
            count = try fileOffset(try field64(bytes, record + 32), in: bytes, what: "record count")
            directorySize = try fileOffset(try field64(bytes, record + 40), in: bytes, what: "directory size")
            directoryOffset = try fileOffset(
                try field64(bytes, record + 48), in: bytes, what: "directory offset")
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw .corrupt(
                "the central directory (\(directorySize) bytes at \(directoryOffset)) does not fit before its end record")
        }
        return Directory(offset: directoryOffset, size: directorySize, count: count)
    }

    private static func readEntry(_ bytes: ByteReader, at position: inout Int, directoryEnd: Int) throws(ZipError)
        -> Record
    {
        let start = position
        guard (try? bytes.uint32(at: start)) == directoryEntrySignature else {
            throw .corrupt("no central directory entry at byte \(start)")
        }
        let flags = try field16(bytes, start + 8)
        let method = try field16(bytes, start + 10)
        var compressedSize = UInt64(try field32(bytes, start + 20))
        var uncompressedSize = UInt64(try field32(bytes, start + 24))
        let nameLength = Int(try field16(bytes, start + 28))
        let extraLength = Int(try field16(bytes, start + 30))
        let commentLength = Int(try field16(bytes, start + 32))
        var localOffset = UInt64(try field32(bytes, start + 42))
        let end = start + 46 + nameLength + extraLength + commentLength
        guard end <= directoryEnd else { throw .corrupt("the entry at byte \(start) runs past the central directory") }
        let name = String(decoding: try fieldBytes(bytes, start + 46, nameLength), as: UTF8.self)

        // ZIP64 extra field: the saturated 32-bit fields follow, in this order.
        var extra = start + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = try field16(bytes, extra)
            let length = Int(try field16(bytes, extra + 2))
            guard extra + 4 + length <= extraEnd else { throw .corrupt("record \(name) has a truncated extra field") }
            if id == 0x0001 {
                var field = extra + 4
                func next() throws(ZipError) -> UInt64 {
                    guard field + 8 <= extra + 4 + length else {
                        throw .corrupt("record \(name) has a short ZIP64 field")
                    }
                    defer { field += 8 }
                    return try field64(bytes, field)
                }
                if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try next() }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next() }
            }
            extra += 4 + length
        }
        position = end

        guard method != 0 || compressedSize == uncompressedSize else {
            throw .corrupt("stored record \(name) has compressed size \(compressedSize) ≠ size \(uncompressedSize)")
        }
        let header = try fileOffset(localOffset, in: bytes, what: "local header of \(name)")
        guard (try? bytes.uint32(at: header)) == localHeaderSignature else {
            throw .corrupt("no local header for \(name) at byte \(header)")
        }
        let localNameLength = Int(try field16(bytes, header + 26))
        let localExtraLength = Int(try field16(bytes, header + 28))
        let dataStart = header + 30 + localNameLength + localExtraLength
        guard compressedSize <= UInt64(bytes.count), dataStart <= bytes.count,
            Int(compressedSize) <= bytes.count - dataStart
        else {
            throw .corrupt("record \(name) (\(compressedSize) bytes at \(dataStart)) runs past the end of the file: truncated?")
        }
        return Record(
            name: name, range: dataStart..<(dataStart + Int(compressedSize)), method: method, isEncrypted: flags & 1 != 0)
    }

    private static func fileOffset(_ value: UInt64, in bytes: ByteReader, what: String) throws(ZipError) -> Int {
        guard value <= UInt64(bytes.count) else {
            throw .corrupt("the \(what) (\(value)) lies past the end of the \(bytes.count)-byte file: truncated?")
        }
        return Int(value)
    }

    private static func field16(_ bytes: ByteReader, _ offset: Int) throws(ZipError) -> UInt16 {
        do { return try bytes.uint16(at: offset) } catch { throw outOfBounds(offset) }
    }

    private static func field32(_ bytes: ByteReader, _ offset: Int) throws(ZipError) -> UInt32 {
        do { return try bytes.uint32(at: offset) } catch { throw outOfBounds(offset) }
    }

    private static func field64(_ bytes: ByteReader, _ offset: Int) throws(ZipError) -> UInt64 {
        do { return try bytes.uint64(at: offset) } catch { throw outOfBounds(offset) }
    }

    private static func fieldBytes(_ bytes: ByteReader, _ offset: Int, _ count: Int) throws(ZipError)
        -> UnsafeRawBufferPointer
    {
        do { return try bytes.bytes(at: offset, count: count) } catch { throw outOfBounds(offset) }
    }

    private static func outOfBounds(_ offset: Int) -> ZipError {
        .corrupt("a field at byte \(offset) lies past the end of the file: truncated?")
    }
}

enum ZipError: Error {
    case notZip(String)
    case corrupt(String)
    case unsupported(String)

    var message: String {
        switch self {
        case .notZip(let message), .corrupt(let message), .unsupported(let message): message
        }
    }
}

/// Bounds-checked little-endian reads from a region of memory.
struct ByteReader {
    struct OutOfBounds: Error {
        let offset: Int
    }

    let base: UnsafeRawPointer
    let count: Int

    func bytes(at offset: Int, count length: Int) throws(OutOfBounds) -> UnsafeRawBufferPointer {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { throw OutOfBounds(offset: offset) }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    func uint8(at offset: Int) throws(OutOfBounds) -> UInt8 { try bytes(at: offset, count: 1)[0] }

    func uint16(at offset: Int) throws(OutOfBounds) -> UInt16 {
        UInt16(littleEndian: try bytes(at: offset, count: 2).loadUnaligned(as: UInt16.self))
    }

    func uint32(at offset: Int) throws(OutOfBounds) -> UInt32 {
        UInt32(littleEndian: try bytes(at: offset, count: 4).loadUnaligned(as: UInt32.self))
    }

    func uint64(at offset: Int) throws(OutOfBounds) -> UInt64 {
        UInt64(littleEndian: try bytes(at: offset, count: 8).loadUnaligned(as: UInt64.self))
    }

    /// The reader of `range` within this one.
    func slice(_ range: Range<Int>) -> ByteReader {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return ByteReader(base: base + range.lowerBound, count: range.count)
    }
}
