import BriVL
import Foundation
import Imaging
import ModelTestSupport
import Testing
import Torch

@testable import BriVLInference

@Suite("A run checkpoint's fingerprint names its weights, not its path")
struct ModelFingerprintTests {
    private let configuration = TinyModels.configuration(vocabularySize: 8)

    /// Writes a run folder at `root/run` whose checkpoint `step` holds a model drawn from `seed`.
    private func writeCheckpoint(root: String, step: Int, seed: UInt64) throws -> String {
        let run = (root as NSString).appendingPathComponent("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n红\n色\n的\n".write(
            toFile: (run as NSString).appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        let model = try BriVLModel(configuration, generator: try Generator(seed: seed))
        try CheckpointDirectory(root: (run as NSString).appendingPathComponent("checkpoints")).write(
            step: step, tensors: ["model": Dictionary(uniqueKeysWithValues: model.stateDict())],
            documents: ["model": configuration])
        return run
    }

    @Test("the same checkpoint spelled three ways has one fingerprint; other weights or preprocessing another")
    func fingerprints() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprint-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try writeCheckpoint(root: root, step: 1, seed: 1)
        let first = try RunCheckpoint(path: run).fingerprint
        #expect(try RunCheckpoint(path: run + "/").fingerprint == first)
        #expect(try RunCheckpoint(path: (run as NSString).appendingPathComponent("checkpoints/step-00000001")).fingerprint == first)

        // The same weights saved again at a later step are the same model.
        _ = try writeCheckpoint(root: root, step: 2, seed: 1)
        #expect(try RunCheckpoint(path: run).checkpoint.step == 2)
        #expect(try RunCheckpoint(path: run).fingerprint == first)

        // Another model trained into the same folder is not.
        _ = try writeCheckpoint(root: root, step: 3, seed: 2)
        let other = try RunCheckpoint(path: run).fingerprint
        #expect(other != first)

        // Nor is the same model fed differently prepared images.
        try JSONEncoder().encode(ImagePreprocessing(resize: .square, normalization: .clip)).write(
            to: URL(fileURLWithPath: (run as NSString).appendingPathComponent(ImagePreprocessing.fileName)))
        #expect(try RunCheckpoint(path: run).fingerprint != other)
    }
}
