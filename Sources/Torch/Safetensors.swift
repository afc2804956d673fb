import CTorch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// key to `{dtype, shape, data_offsets}` (plus optional string `__metadata__`), then the raw little-endian data.
public enum Safetensors {
    /// Header larger than this is rejected as corrupt (the format's own limit).
    static let maximumHeaderSize = 100 * 1024 * 1024

    /// Loads every tensor of a file. The file is memory-mapped and tensors view the mapping without copying; the
    /// mapping is released when the last tensor is. Mapped pages are private: writing to a tensor never changes
    /// the file.
    public static func load(_ path: String) throws -> [String: Tensor] {
        try SafetensorsFile(path).loadAll()
    }

    /// Writes `tensors` (any device, any supported dtype) with optional string metadata. The file appears
    /// atomically: a crash mid-write leaves any previous file at `path` intact.
    public static func save(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to path: String) throws {
        let keys = tensors.keys.sorted()
        var entries: [String] = []
        var offset = 0
        for key in keys {
            let tensor = tensors[key]!
            guard let code = dtypeName(tensor.dtype) else {
                throw TorchError.safetensors(file: path, message: "dtype \(tensor.dtype) of \(key) cannot be stored")
            }
            let size = tensor.count * tensor.dtype.byteSize
            entries.append(
                "\(jsonString(key)):{\"dtype\":\"\(code)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            )
            offset += size
        }
        if let metadata, !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.insert("\"__metadata__\":{\(pairs.joined(separator: ","))}", at: 0)
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the data starts 8-byte aligned, as the format recommends.
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        let temporary = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw TorchError.io(file: path, message: "cannot create \(temporary)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for key in keys {
                let tensor = tensors[key]!
                var bytes = Data(count: tensor.count * tensor.dtype.byteSize)
                try bytes.withUnsafeMutableBytes { buffer in
                    try check(ct_copy_to_buffer(tensor.handle, buffer.baseAddress, buffer.count))
                }
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? TorchError { throw error }
            throw TorchError.io(file: path, message: "\(error)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw TorchError.io(file: path, message: "cannot move the written file into place: \(String(cString: strerror(errno)))")
        }
    }

    static func dtypeName(_ dtype: DType) -> String? {
        switch dtype {
        case .float32: return "F32"
        case .float64: return "F64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    static func dtype(named name: String) -> DType? {
        DType.allCases.first { dtypeName($0) == name }
    }

    private static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

/// An opened safetensors file: its keys, shapes and metadata are read eagerly, tensors on demand.
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    public let path: String
    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let mapping: MappedFile
    private let dataStart: Int

    public var keys: [String] { entries.keys.sorted() }

    public init(_ path: String) throws {
        self.path = path
        let mapping = try MappedFile(path: path)
        func corrupt(_ message: String) -> TorchError { .safetensors(file: path, message: message) }
        guard mapping.size >= 8 else {
            throw corrupt("file is \(mapping.size) bytes, too short for the 8-byte header length")
        }
        // Compared as UInt64 first: a corrupt length may not fit in an Int.
        let storedLength = UInt64(littleEndian: mapping.base.loadUnaligned(as: UInt64.self))
        guard storedLength <= UInt64(Safetensors.maximumHeaderSize), storedLength <= UInt64(mapping.size - 8) else {
            throw corrupt("header length \(storedLength) exceeds the file (\(mapping.size) bytes): truncated or not safetensors")
        }
        let headerLength = Int(storedLength)
        let headerBytes = Data(bytes: mapping.base + 8, count: headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: headerBytes) as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        let dataSize = mapping.size - 8 - headerLength
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let pairs = value as? [String: String] else { throw corrupt("__metadata__ must map strings to strings") }
                metadata = pairs
                continue
            }
            guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
                let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw corrupt("entry \(key) lacks dtype, shape or data_offsets")
            }
            guard let dtype = Safetensors.dtype(named: dtypeName) else {
                throw corrupt("entry \(key) has unsupported dtype \(dtypeName)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw corrupt("entry \(key) has data_offsets \(offsets) outside the \(dataSize)-byte data section (truncated file?)")
            }
            guard let expected = Self.byteCount(shape: shape, elementSize: dtype.byteSize) else {
                throw corrupt("entry \(key) has a shape too large to address: \(shape)")
            }
            guard offsets[1] - offsets[0] == expected else {
                throw corrupt("entry \(key) of shape \(shape) \(dtype) needs \(expected) bytes, its range holds \(offsets[1] - offsets[0])")
            }
            entries[key] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        let ranges = entries.values.map(\.range).filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.upperBound > b.lowerBound {
            throw corrupt("tensor data ranges overlap at byte \(b.lowerBound)")
        }
        self.entries = entries
        self.metadata = metadata
        self.mapping = mapping
        dataStart = 8 + headerLength
    }

    /// The bytes a tensor of `shape` occupies, or nil when that overflows.
    static func byteCount(shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// The tensor stored under `key`, viewing the mapped file (or copied, when the data is misaligned).
    public func tensor(_ key: String) throws -> Tensor {
        guard let entry = entries[key] else {
            throw TorchError.safetensors(file: path, message: "no tensor named \(key)")
        }
        let address = mapping.base + dataStart + entry.range.lowerBound
        if Int(bitPattern: address) % entry.dtype.byteSize != 0 {
            var out: ct_tensor? = nil
            try withInt64Buffer(entry.shape) { sizes, rank in
                try check(ct_from_data(&out, address, sizes, rank, entry.dtype.code))
            }
            return Tensor(handle: out!)
        }
        let mapping = self.mapping
        return try Tensor(wrapping: address, shape: entry.shape, dtype: entry.dtype) { withExtendedLifetime(mapping) {} }
    }

    public func loadAll() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for key in entries.keys { result[key] = try tensor(key) }
        return result
    }
}

/// A private, copy-on-write memory mapping of a whole file, unmapped when released.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TorchError.io(file: path, message: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TorchError.io(file: path, message: String(cString: strerror(errno)))
        }
        size = Int(status.st_size)
        if size == 0 {
            // mmap rejects empty files; a one-byte anonymous page keeps `base` valid and the size check reports it.
            base = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 8)
            return
        }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw TorchError.io(file: path, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        base = address
    }

    deinit {
        if size == 0 { base.deallocate() } else { munmap(base, size) }
    }
}
