import Foundation
import Testing
import Torch

@testable import BriVLInference

// Helpers shared by the checkpoint tests: a scratch root, sample contents and file manipulation.

/// A fresh folder for checkpoints, removed when `body` returns.
func withCheckpointRoot<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-checkpoints-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// A JSON document of the kind a training run saves beside its tensors.
struct RunDocument: Codable, Equatable {
    var step: Int
    var seed: UInt64
    var learningRate: Double
    var losses: [Double]
    var note: String
    var cursor: [String: Int]
}

func runDocument(step: Int) -> RunDocument {
    RunDocument(
        step: step, seed: 0xDEAD_BEEF_CAFE_F00D, learningRate: 0.1 + 0.2, losses: [2.5, 1.0 / 3, 1e-300],
        note: "步骤 \(step) / résumé", cursor: ["shard": 3, "offset": step * 7])
}

/// Tensors of several dtypes, shapes including a 0-d scalar and an empty tensor, with values that depend on `seed`.
func sampleTensors(seed: UInt64) throws -> [String: Tensor] {
    let generator = try Generator(seed: seed)
    return [
        "encoder.weight": try Tensor.randn([3, 4], generator: generator),
        "encoder.bias": try Tensor.randn([4], dtype: .float64, generator: generator),
        "half": try Tensor.randn([2, 2], generator: generator).to(dtype: .float16),
        "brain": try Tensor.randn([5], generator: generator).to(dtype: .bfloat16),
        "counter": try Tensor(scalar: Int64(seed) * 1_000_003),
        "indices": try Tensor.randint(-50..<50, shape: [2, 3], dtype: .int32, generator: generator),
        "random_state": try generator.state(),
        "mask": try Tensor([true, false, seed % 2 == 0], shape: [3]),
        "empty": try Tensor.zeros([0, 2]),
    ]
}

/// Expects two tensor dictionaries to hold the same keys with identical dtypes, shapes and bytes.
func expectIdentical(
    _ actual: [String: Tensor], _ expected: [String: Tensor], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(Set(actual.keys) == Set(expected.keys), sourceLocation: sourceLocation)
    for (key, tensor) in expected {
        guard let loaded = actual[key] else { continue }
        #expect(loaded.dtype == tensor.dtype, "\(key) dtype", sourceLocation: sourceLocation)
        #expect(loaded.shape == tensor.shape, "\(key) shape", sourceLocation: sourceLocation)
        #expect(try exactValues(loaded) == exactValues(tensor), "\(key) values", sourceLocation: sourceLocation)
    }
}

/// A tensor's values in a form that compares exactly: floating-point values widened to float64 (exact for every
/// narrower type) as bit patterns, everything else widened to int64.
func exactValues(_ tensor: Tensor) throws -> [UInt64] {
    if tensor.dtype.isFloatingPoint { return try tensor.to(dtype: .float64).toArray(Double.self).map(\.bitPattern) }
    return try tensor.to(dtype: .int64).toArray(Int64.self).map { UInt64(bitPattern: $0) }
}

/// The names in a folder, sorted.
func entries(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}

/// Expects `body` to throw `InferenceError.checkpoint` and returns its message.
func checkpointMessage(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected InferenceError.checkpoint, nothing was thrown", sourceLocation: sourceLocation)
    } catch InferenceError.checkpoint(let message) {
        return message
    } catch {
        Issue.record("expected InferenceError.checkpoint, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}

/// Overwrites one byte of a file in place (same size), as a bad sector or a stray write would.
func flipByte(in path: String, at offset: Int) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let original = try handle.read(upToCount: 1) ?? Data()
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: Data([(original.first ?? 0) ^ 0x5A]))
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
}
