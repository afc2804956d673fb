import Foundation
import Testing
import Torch

// Torch's Safetensors.swift: round trips, the on-disk layout, and corrupt files.

/// The bytes of a safetensors file: 8-byte little-endian header length (`declaredLength` or the header's), the
/// header text, then `data`.
private func fileBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var bytes = Data()
    var length = (declaredLength ?? UInt64(header.utf8.count)).littleEndian
    withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    return bytes
}

/// Little-endian bytes of float32 values.
private func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in
        let bits = value.bitPattern.littleEndian
        return withUnsafeBytes(of: bits) { Array($0) }
    }
}

/// Loads `path`, expecting a `TorchError.safetensors` about that file, and returns its message.
private func safetensorsMessage(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        let tensors = try Safetensors.load(path)
        Issue.record("a corrupt file loaded: \(tensors.keys.sorted())", sourceLocation: sourceLocation)
    } catch TorchError.safetensors(let file, let message) {
        #expect(file == path, sourceLocation: sourceLocation)
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
        return message
    } catch {
        Issue.record("expected TorchError.safetensors, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// Writes `bytes` to a file in a temporary folder and returns the error message of loading it.
private func messageForFile(_ bytes: Data, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try withTemporaryDirectory { folder in
        let path = folder.appendingPathComponent("corrupt.safetensors").path
        try bytes.write(to: URL(fileURLWithPath: path))
        return safetensorsMessage(path, sourceLocation: sourceLocation)
    }
}

@Suite("Safetensors")
struct SafetensorsTests {
    /// One tensor of every dtype, with the extreme values of the integer types, a 0-d scalar and an empty tensor.
    private func everyDType() throws -> [String: Tensor] {
        [
            "f32": try Tensor([1.5, -2.25, 0, 3e5, -1e-3, 7] as [Float], shape: [2, 3]),
            "f64": try Tensor([0.1, -1.0 / 3, 1e300, -5e-324, 2, 0] as [Double], shape: [3, 2]),
            "f16": try Tensor([0.5, -2, 1024, 0.099975586, 65504, -0.0] as [Double], shape: [6]).to(dtype: .float16),
            "bf16": try Tensor([1.5, -3, 2.5e38, 0.0078125] as [Double], shape: [2, 2]).to(dtype: .bfloat16),
            "i64": try Tensor([Int64.max, Int64.min, 0, -1, 42, 7], shape: [1, 6]),
            "i32": try Tensor([Int32.max, Int32.min, 0, -5], shape: [4]),
            "i16": try Tensor([Int16.max, Int16.min, 3], shape: [3]),
            "i8": try Tensor([Int8.max, Int8.min, -1, 0], shape: [2, 2]),
            "u8": try Tensor([0, 255, 128, 7] as [UInt8], shape: [4]),
            "bool": try Tensor([true, false, false, true, true], shape: [5]),
            "scalar": try Tensor(scalar: 2.5 as Double),
            "empty": try Tensor.zeros([0, 3]),
        ]
    }

    @Test("every dtype, a 0-d scalar and an empty tensor survive a round trip")
    func everyDTypeRoundTrip() throws {
        let tensors = try everyDType()
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("all.safetensors").path
            try Safetensors.save(tensors, to: path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["all.safetensors"])
            let loaded = try Safetensors.load(path)
            #expect(Set(loaded.keys) == Set(tensors.keys))
            for (key, original) in tensors {
                let copy = try #require(loaded[key], "\(key) missing")
                #expect(copy.dtype == original.dtype, "\(key)")
                #expect(copy.shape == original.shape, "\(key)")
                #expect(try copy.equals(original), "\(key): \(copy) vs \(original)")
            }
            #expect(loaded["scalar"]?.rank == 0)
            #expect(try loaded["scalar"]?.item() == 2.5)
            #expect(loaded["empty"]?.count == 0)
            #expect(try loaded["i64"]?.toArray(Int64.self) == [Int64.max, Int64.min, 0, -1, 42, 7])
            #expect(try loaded["u8"]?.toArray(UInt8.self) == [0, 255, 128, 7])

            let file = try SafetensorsFile(path)
            #expect(file.keys == tensors.keys.sorted())
            #expect(file.entries["f16"]?.dtype == .float16 && file.entries["f16"]?.shape == [6])
            #expect(file.entries["f16"]?.range.count == 12)
            #expect(file.entries["empty"]?.range.isEmpty == true)
            #expect(file.metadata.isEmpty)
            #expect(throws: TorchError.self) { try file.tensor("absent") }
        }
    }

    @Test("the file layout: length prefix, JSON header with HF dtype names, aligned little-endian data")
    func layout() throws {
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("layout.safetensors").path
            let half = try Tensor([1.0, -2.0] as [Double]).to(dtype: .float16)
            let brain = try Tensor([1.0] as [Double]).to(dtype: .bfloat16)
            try Safetensors.save(["a": half, "b": brain], metadata: ["format": "pt"], to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let length = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
            #expect((8 + length) % 8 == 0)
            #expect(bytes.count == 8 + length + 6)
            let header = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
            #expect(header["__metadata__"] as? [String: String] == ["format": "pt"])
            let a = try #require(header["a"] as? [String: Any])
            #expect(a["dtype"] as? String == "F16")
            #expect(a["shape"] as? [Int] == [2])
            #expect(a["data_offsets"] as? [Int] == [0, 4])
            let b = try #require(header["b"] as? [String: Any])
            #expect(b["dtype"] as? String == "BF16")
            #expect(b["data_offsets"] as? [Int] == [4, 6])
            // 1.0 = 0x3C00 and −2.0 = 0xC000 in half precision, 1.0 = 0x3F80 in bfloat16, little-endian.
            #expect(Array(bytes[(8 + length)...]) == [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F])
        }
    }

    @Test("metadata round trip")
    func metadata() throws {
        let metadata = ["format": "pt", "note": "ünïcödé \"quoted\" / back\\slash", "empty": ""]
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("meta.safetensors").path
            try Safetensors.save(["x": Tensor.ones([2])], metadata: metadata, to: path)
            let file = try SafetensorsFile(path)
            #expect(file.metadata == metadata)
            #expect(file.keys == ["x"])
        }
    }

    @Test("a transposed (non-contiguous) tensor is stored with its logical values")
    func nonContiguous() throws {
        let matrix = try Tensor([0, 1, 2, 3, 4, 5] as [Float], shape: [2, 3])
        let transposed = try matrix.transposed()
        #expect(!transposed.isContiguous)
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("t.safetensors").path
            try Safetensors.save(["t": transposed, "row": matrix[1]], to: path)
            let loaded = try Safetensors.load(path)
            #expect(loaded["t"]?.shape == [3, 2])
            #expect(try loaded["t"]?.toArray(Float.self) == [0, 3, 1, 4, 2, 5])
            #expect(try loaded["row"]?.toArray(Float.self) == [3, 4, 5])
        }
    }

    @Test("writing to a loaded tensor never changes the file")
    func privateMapping() throws {
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("m.safetensors").path
            try Safetensors.save(["x": Tensor([1, 2, 3, 4] as [Float])], to: path)
            let first = try #require(try Safetensors.load(path)["x"])
            try first.fillInPlace(9.0)
            #expect(try first.toArray(Float.self) == [9, 9, 9, 9])
            #expect(try Safetensors.load(path)["x"]?.toArray(Float.self) == [1, 2, 3, 4])
        }
    }

    @Test("a file written by hand in the Hugging Face layout loads, aligned or not", arguments: [0, 1])
    func handWritten(misalignment: Int) throws {
        var header =
            #"{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#
        // Pad with spaces so the data starts at 8·k (aligned) or at 8·k + 1 (misaligned, loaded by copying).
        while (8 + header.utf8.count) % 8 != misalignment { header += " " }
        let data = float32Bytes([1.5, -2, 0.25, 3]) + float32Bytes([-0.5, 1e-3])
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("hf.safetensors").path
            try fileBytes(header: header, data: data).write(to: URL(fileURLWithPath: path))
            let file = try SafetensorsFile(path)
            #expect(file.metadata == ["format": "pt"])
            #expect(file.keys == ["bias", "weight"])
            let weight = try file.tensor("weight")
            #expect(weight.dtype == .float32 && weight.shape == [2, 2])
            #expect(try weight.toArray(Float.self) == [1.5, -2, 0.25, 3])
            #expect(try file.tensor("bias").toArray(Float.self) == [-0.5, 1e-3])
        }
    }

    // MARK: Corrupt files

    @Test("a missing file is an I/O error naming it")
    func missingFile() throws {
        let path = "/nonexistent-\(UUID().uuidString)/model.safetensors"
        do {
            _ = try Safetensors.load(path)
            Issue.record("a missing file loaded")
        } catch TorchError.io(let file, let message) {
            #expect(file == path)
            #expect(message.lowercased().contains("no such file"), "\(message)")
        }
    }

    @Test("an empty file and a 4-byte file are too short")
    func tooShort() throws {
        #expect(try messageForFile(Data()).contains("0 bytes, too short"))
        #expect(try messageForFile(Data([1, 0, 0, 0])).contains("4 bytes, too short"))
    }

    @Test("a header length beyond the end of the file")
    func headerTooLong() throws {
        let message = try messageForFile(fileBytes(header: "{}", declaredLength: 1000))
        #expect(message.contains("header length 1000 exceeds the file (10 bytes)"), "\(message)")
    }

    @Test("a header that is not a JSON object")
    func headerNotJSON() throws {
        #expect(try messageForFile(fileBytes(header: "not json")).contains("not a JSON object"))
        #expect(try messageForFile(fileBytes(header: "[1, 2]")).contains("not a JSON object"))
    }

    @Test("a truncated file: data_offsets beyond the data")
    func truncated() throws {
        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("cut.safetensors").path
            try Safetensors.save(["x": Tensor([1, 2, 3, 4] as [Float])], to: path)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            let size = try handle.seekToEnd()
            try handle.truncate(atOffset: size - 5)
            try handle.close()
            let message = safetensorsMessage(path)
            #expect(message.contains("entry x has data_offsets [0, 16] outside the 11-byte data section"), "\(message)")
            #expect(message.contains("truncated"))
        }
    }

    @Test("a byte range that does not match shape and dtype")
    func wrongByteCount() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#
        let message = try messageForFile(fileBytes(header: header, data: float32Bytes([1, 2, 3])))
        #expect(message.contains("entry a of shape [2, 2] float32 needs 16 bytes, its range holds 12"), "\(message)")
    }

    @Test("an unknown dtype")
    func unknownDType() throws {
        let header = #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#
        let message = try messageForFile(fileBytes(header: header, data: [UInt8](repeating: 0, count: 8)))
        #expect(message.contains("entry a has unsupported dtype C64"), "\(message)")
    }

    @Test("an entry without shape, and overlapping ranges")
    func malformedEntries() throws {
        let noShape = #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#
        #expect(try messageForFile(fileBytes(header: noShape, data: float32Bytes([1]))).contains("lacks dtype, shape or data_offsets"))
        let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(try messageForFile(fileBytes(header: overlapping, data: float32Bytes([1, 2, 3]))).contains("overlap"))
        let badMetadata = #"{"__metadata__":{"n":1}}"#
        #expect(try messageForFile(fileBytes(header: badMetadata)).contains("__metadata__"))
    }

    @Test("a header length above Int.max is rejected")
    func hugeHeaderLength() throws {
        let message = try messageForFile(Data(repeating: 0xFF, count: 16))
        #expect(message.contains("header length 18446744073709551615 exceeds the file"), "\(message)")
    }

    @Test("a shape whose byte count overflows is rejected")
    func overflowingShape() throws {
        let header = #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#
        let message = try messageForFile(fileBytes(header: header, data: [0, 0, 0, 0]))
        #expect(message.contains("entry a has a shape too large"), "\(message)")
    }
}
