import FileTestSupport
import Foundation
import Testing

@testable import Torch

/// The files of Tests/Reference/make_torch_save_fixtures.py, written by PyTorch through scripts/fetch-test-data.sh
/// into `$BRIVL_TEST_DATA/torch-save` or `<package root>/.cache/test-data/torch-save`.
private enum Fixtures {
    static var directory: URL { TestDataLocation.directory.appendingPathComponent("torch-save", isDirectory: true) }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static var isAvailable: Bool { FileManager.default.fileExists(atPath: path("expected.json")) }
    /// CI sets BRIVL_REQUIRE_TEST_DATA=1, so that missing fixtures fail instead of skipping.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["BRIVL_REQUIRE_TEST_DATA"] == "1" }

    struct Expected: Decodable {
        let dtype: String
        let shape: [Int]
        let values: [Double]
    }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: URL(fileURLWithPath: path("expected.json"))))
    }
}

private let needsFixtures = ConditionTrait.enabled(
    if: Fixtures.isAvailable || Fixtures.isRequired,
    "needs the torch.save fixtures of scripts/fetch-test-data.sh (PyTorch: python3-torch)")

/// The error message of a failed read, or nil when the file read.
private func readFailure(_ path: String) -> String? {
    do {
        _ = try TorchSaveFile(path)
        return nil
    } catch let error as TorchError {
        guard case .torchSave(let file, let message) = error else { return "unexpected error kind: \(error)" }
        #expect(file == path)
        return message
    } catch {
        return "unexpected error type: \(error)"
    }
}

@Suite("torch.save files, read without Python")
struct TorchSaveTests {
    /// Each tensor matches what PyTorch saved: dtype, shape and every value.
    private func checkStateDictionary(_ tensors: [String: Tensor]) throws {
        let expected = try Fixtures.expected()
        #expect(Set(tensors.keys) == Set(expected.keys))
        for (key, reference) in expected {
            let tensor = try #require(tensors[key], "\(key) missing")
            #expect(tensor.dtype.description == reference.dtype, "\(key)")
            #expect(tensor.shape == reference.shape, "\(key)")
            let values = try tensor.to(dtype: .float64).contiguous().toArray(Double.self)
            #expect(values == reference.values, "\(key): values differ")
        }
    }

    @Test("every storage dtype, views with strides and offsets, empty, 0-dim and Parameter tensors", needsFixtures)
    func stateDictionary() throws {
        let file = try TorchSaveFile(Fixtures.path("state_dict.pt"))
        #expect(file.archiveName == "state_dict")
        let tensors = try file.stateDictionary()
        try checkStateDictionary(tensors)
        // The order of the OrderedDict is kept.
        #expect(file.root.stringKeys.prefix(3) == ["float32", "transposed", "row"])
    }

    @Test("tensors view the file's storage: a transpose and a row share the base tensor's memory", needsFixtures)
    func viewsShareStorage() throws {
        let tensors = try TorchSaveFile(Fixtures.path("state_dict.pt")).stateDictionary()
        let base = try #require(tensors["float32"])
        let transposed = try #require(tensors["transposed"])
        let row = try #require(tensors["row"])
        #expect(!transposed.isContiguous)
        try base.multiplyInPlace(0)
        #expect(try transposed.contiguous().toArray(Float.self).allSatisfy { $0 == 0 })
        #expect(try row.toArray(Float.self) == [0, 0, 0, 0])
        // The file itself is untouched: a fresh read sees the saved values.
        let reread = try TorchSaveFile(Fixtures.path("state_dict.pt")).stateDictionary()
        #expect(try reread["row"]!.toArray(Float.self) == [0, 0.25, 0.5, 0.75])
    }

    @Test("a training checkpoint: scalars of every kind, a prefixed state dict, the optimizer's state", needsFixtures)
    func trainingCheckpoint() throws {
        let file = try TorchSaveFile(Fixtures.path("checkpoint.pt"))
        let root = file.root
        #expect(root["epoch"]?.intValue == 3)
        #expect(root["step"]?.intValue == 1234)
        #expect(root["name"]?.stringValue == "训练 run")
        #expect(root["big"]?.intValue == 1 << 40)
        #expect(root["negative"]?.intValue == -5)
        guard case .float(let lr) = root["lr"] else { Issue.record("lr is \(String(describing: root["lr"]))"); return }
        #expect(lr == 0.5)
        guard case .bytes(let bytes) = root["bytes"] else { Issue.record("bytes missing"); return }
        #expect(bytes == [0x00, 0xFF, 0x10])
        guard case .list(let flags) = root["flags"], flags.count == 3, case .bool(true) = flags[0],
            case .bool(false) = flags[1], case .none = flags[2]
        else {
            Issue.record("flags are \(String(describing: root["flags"]))")
            return
        }
        guard case .global("torch", "float16") = root["dtype"] else { Issue.record("dtype missing"); return }

        let weights = try file.stateDictionary()
        let reference = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("checkpoint.json")))) as! [String: Any]
        #expect(Set(weights.keys) == Set(reference.keys))
        let bias = try weights["module.0.bias"]!.toArray(Float.self).map(Double.init)
        let referenceBias = (reference["module.0.bias"] as! [NSNumber]).map(\.doubleValue)
        for (value, expected) in zip(bias, referenceBias) { #expect(abs(value - expected) < 1e-7) }

        // Adam's state: per-parameter exp_avg tensors and a step count, under integer keys.
        guard case .dictionary(let state) = root["optimizer"]?["state"] else { Issue.record("no optimizer state"); return }
        #expect(state.count == 4)
        guard case .dictionary = state.first?.value, case .tensor(let average) = state.first!.value["exp_avg"] else {
            Issue.record("no exp_avg")
            return
        }
        #expect(average.shape == [3, 4])
    }

    @Test("an archive re-packed by another zip writer (ZIP64 headers, unaligned records) reads the same", needsFixtures)
    func repackedArchive() throws {
        try checkStateDictionary(try TorchSaveFile(Fixtures.path("repacked.pt")).stateDictionary())
    }

    @Test("a pickle naming os.system is refused by name, and nothing runs", needsFixtures)
    func forbiddenGlobal() throws {
        let message = try #require(readFailure(Fixtures.path("forbidden.pt")))
        #expect(message.contains("posix.system") || message.contains("os.system"), "\(message)")
        #expect(message.contains("allow-list"))
        #expect(!FileManager.default.fileExists(atPath: Fixtures.path("pwned")))
    }

    @Test("legacy, compressed, TorchScript and non-zip files each get an error saying what they are", needsFixtures)
    func otherFormats() throws {
        let legacy = try #require(readFailure(Fixtures.path("legacy.pt")))
        #expect(legacy.contains("legacy") && legacy.contains("torch.save(torch.load("), "\(legacy)")
        let compressed = try #require(readFailure(Fixtures.path("compressed.pt")))
        #expect(compressed.contains("compressed"), "\(compressed)")
        let script = try #require(readFailure(Fixtures.path("torchscript.pt")))
        #expect(script.contains("TorchScript"), "\(script)")
        let notZip = try #require(readFailure(Fixtures.path("expected.json")))
        #expect(notZip.contains("not a torch.save archive"), "\(notZip)")
    }

    @Test("every truncation of a checkpoint is a clear error, never a crash", needsFixtures)
    func truncations() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("checkpoint.pt")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("torch-save-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cut.pt").path
        var failures = 0
        for length in stride(from: 0, to: original.count, by: 13) {
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            if readFailure(path) != nil { failures += 1 }
        }
        // A zip is read from its end: with the end cut off, nothing is readable.
        #expect(failures == (original.count + 12) / 13)
        try original.write(to: URL(fileURLWithPath: path))
        #expect(readFailure(path) == nil)
    }

    @Test("corrupted bytes anywhere give a read or a clear error, never a crash or an out-of-bounds view", needsFixtures)
    func corruptions() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("checkpoint.pt")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("torch-save-c-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("corrupt.pt").path
        var random = SplitMix(seed: 7)
        var (read, refused) = (0, 0)
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int(random.next() % 4 + 1) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            try bytes.write(to: URL(fileURLWithPath: path))
            if let message = readFailure(path) {
                #expect(!message.hasPrefix("unexpected"), "\(message)")
                refused += 1
            } else {
                // What reads must still be viewable: every tensor's elements can be copied out.
                for tensor in try TorchSaveFile(path).root.allTensors() { _ = try tensor.contiguous().toArray(Double.self) }
                read += 1
            }
        }
        #expect(read + refused == 400)
        #expect(refused > 0)
    }
}

/// A small deterministic generator for the corruption test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension PickleValue {
    /// Every tensor anywhere in the value.
    fileprivate func allTensors() -> [Tensor] {
        switch self {
        case .tensor(let tensor): [tensor]
        case .list(let items), .tuple(let items): items.flatMap { $0.allTensors() }
        case .dictionary(let pairs): pairs.flatMap { $0.key.allTensors() + $0.value.allTensors() }
        default: []
        }
    }
}
