import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVLInference

@Suite("Checkpoint directory: writing, reading, retention")
struct CheckpointDirectoryTests {
    @Test("tensor groups of several dtypes and JSON documents survive a round trip")
    func roundTrip() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            let model = try sampleTensors(seed: 1)
            let extra = try sampleTensors(seed: 2)
            let metadata = OptimizerState.Metadata(
                kind: "AdamW", learningRate: 3e-4 * 0.7, hyperparameters: ["beta1": 0.9, "beta2": 0.98],
                groups: [OptimizerState.Group(keys: ["a", "b"], weightDecay: 0.05, learningRateScale: 1)],
                steps: ["a": 100, "b": 99])
            let written = try directory.write(
                step: 100, tensors: ["model": model, "optimizer": extra],
                documents: ["run": runDocument(step: 100), "optimizer": metadata])

            #expect(written.step == 100)
            #expect((written.path as NSString).lastPathComponent == "step-00000100")
            #expect(try entries(root) == ["step-00000100"], "no temporary folder is left behind")
            #expect(
                try entries(written.path) == [
                    "manifest.json", "model.safetensors", "optimizer.json", "optimizer.safetensors", "run.json",
                ])
            #expect(written.tensorGroups == ["model", "optimizer"])
            #expect(written.documents == ["optimizer", "run"])

            // Read back through a new directory value, as a resumed process would.
            let reopened = try #require(try CheckpointDirectory(root: root).latest())
            #expect(reopened == written)
            try expectIdentical(try reopened.tensors("model"), model)
            try expectIdentical(try reopened.tensors("optimizer"), extra)
            #expect(try reopened.document("run", as: RunDocument.self) == runDocument(step: 100))
            #expect(try reopened.document("optimizer", as: OptimizerState.Metadata.self) == metadata)
            try reopened.verify()

            // The manifest lists every other file with its real size and a 32-digit checksum.
            #expect(reopened.manifest.step == 100 && reopened.manifest.format == CheckpointManifest.currentFormat)
            #expect(reopened.manifest.files.map(\.name) == [
                "model.safetensors", "optimizer.json", "optimizer.safetensors", "run.json",
            ])
            for file in reopened.manifest.files {
                #expect(file.bytes == (try fileSize((reopened.path as NSString).appendingPathComponent(file.name))))
                #expect(file.checksum.count == 32 && file.checksum.allSatisfy(\.isHexDigit))
            }
            #expect(Set(reopened.manifest.files.map(\.checksum)).count == 4)
        }
    }

    @Test("documents are pretty-printed JSON with sorted keys")
    func documentFormat() throws {
        try withCheckpointRoot { root in
            let checkpoint = try CheckpointDirectory(root: root).write(step: 7, documents: ["run": runDocument(step: 7)])
            let text = try String(contentsOfFile: (checkpoint.path as NSString).appendingPathComponent("run.json"), encoding: .utf8)
            let keys = ["cursor", "learningRate", "losses", "note", "seed", "step"]
            let positions = keys.map { text.range(of: "\"\($0)\"")?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil })
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "keys in sorted order")
            #expect(text.contains("\n  \"cursor\" : {\n    \"offset\" : 49,\n    \"shard\" : 3\n  }"))
            let manifest = try String(contentsOfFile: (checkpoint.path as NSString).appendingPathComponent("manifest.json"), encoding: .utf8)
            #expect(manifest.contains("\"checksum_algorithm\" : \"content-hash-128\""))
        }
    }

    @Test("checkpoints are listed by step, latest is the highest, contains and checkpoint(step:) find them")
    func listing() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            #expect(try directory.latest() == nil)
            #expect(try directory.checkpoints().isEmpty)
            for step in [300, 20, 1_000, 100_000_000] {
                try directory.write(step: step, tensors: ["model": ["step": try Tensor(scalar: Int64(step))]])
            }
            #expect(try directory.checkpoints().map(\.step) == [20, 300, 1_000, 100_000_000])
            #expect(try directory.latest()?.step == 100_000_000)
            #expect(try entries(root).contains("step-100000000") && entries(root).contains("step-00000020"))
            #expect(directory.contains(step: 300))
            #expect(!directory.contains(step: 301))
            #expect(try directory.checkpoint(step: 1_000).tensors("model")["step"]?.itemInt() == 1_000)
            #expect(checkpointMessage { _ = try directory.checkpoint(step: 301) }.contains("no checkpoint of step 301"))
        }
    }

    @Test("retention keeps the newest N after each write, never the one just written")
    func retention() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root, keepLast: 2)
            for step in [100, 200, 300, 400] {
                try directory.write(step: step, tensors: ["model": try sampleTensors(seed: UInt64(step))])
            }
            #expect(try entries(root) == ["step-00000300", "step-00000400"])
            // An older step written later (a run rewound by hand) stays until a newer write displaces it.
            try directory.write(step: 50, tensors: ["model": try sampleTensors(seed: 50)])
            #expect(try directory.checkpoints().map(\.step) == [50, 300, 400])
            try directory.write(step: 500, tensors: ["model": try sampleTensors(seed: 500)])
            #expect(try entries(root) == ["step-00000400", "step-00000500"])
            try expectIdentical(try directory.checkpoint(step: 400).tensors("model"), try sampleTensors(seed: 400))

            let keepAll = try CheckpointDirectory(root: root)
            for step in [600, 700, 800] { try keepAll.write(step: step, documents: ["run": runDocument(step: step)]) }
            #expect(try keepAll.checkpoints().map(\.step) == [400, 500, 600, 700, 800])

            let invalid = #expect(throws: InferenceError.self) { _ = try CheckpointDirectory(root: root, keepLast: 0) }
            #expect(invalid?.description.contains("at least 1") == true)
        }
    }

    @Test("writing a step that exists replaces it whole, with the atomic exchange and with the fallback")
    func rewriteStep() throws {
        for atomic in [true, false] {
            try withCheckpointRoot { root in
                var directory = try CheckpointDirectory(root: root)
                directory.usesAtomicExchange = atomic
                try directory.write(
                    step: 100, tensors: ["model": try sampleTensors(seed: 1), "old": try sampleTensors(seed: 3)],
                    documents: ["run": runDocument(step: 1)])
                let replaced = try directory.write(
                    step: 100, tensors: ["model": try sampleTensors(seed: 2)], documents: ["run": runDocument(step: 2)])
                #expect(try entries(root) == ["step-00000100"], "atomic exchange: \(atomic)")
                #expect(try entries(replaced.path) == ["manifest.json", "model.safetensors", "run.json"])
                try expectIdentical(try replaced.tensors("model"), try sampleTensors(seed: 2))
                #expect(try replaced.document("run", as: RunDocument.self) == runDocument(step: 2))
                try replaced.verify()
            }
        }
    }

    @Test("a failed write leaves the existing checkpoint of that step intact and no temporary folder")
    func failedWrite() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            try directory.write(step: 100, tensors: ["model": try sampleTensors(seed: 1)])
            // JSON has no NaN: encoding fails after the tensors were written to the temporary folder.
            let message = checkpointMessage {
                try directory.write(
                    step: 100, tensors: ["model": try sampleTensors(seed: 2)], documents: ["bad": [Double.nan]])
            }
            #expect(message.contains("bad"))
            #expect(try entries(root) == ["step-00000100"])
            let kept = try directory.checkpoint(step: 100)
            try expectIdentical(try kept.tensors("model"), try sampleTensors(seed: 1))
            try kept.verify()
        }
    }

    @Test("an optimizer state written as a tensor group plus a document resumes the optimizer")
    func optimizerStateInCheckpoint() throws {
        try withCheckpointRoot { root in
            let parameter = try Tensor([1.0, -2.0, 3.0]).requiringGrad()
            let optimizer = try AdamW(groups: [ParameterGroup([parameter], weightDecay: 0.1)], learningRate: 0.01)
            for step in 0..<3 {
                try parameter.setGrad(Tensor([0.5, Double(step), -1.0]))
                try optimizer.step()
            }
            let keys = [(key: "weight", tensor: parameter)]
            let state = try optimizer.exportState(parameterKeys: keys)
            let checkpoint = try CheckpointDirectory(root: root).write(
                step: 3, tensors: ["optimizer": state.tensors], documents: ["optimizer": state.metadata])

            let restored = OptimizerState(
                tensors: try checkpoint.tensors("optimizer"),
                metadata: try checkpoint.document("optimizer", as: OptimizerState.Metadata.self))
            let fresh = try AdamW(groups: [ParameterGroup([parameter], weightDecay: 0.1)], learningRate: 0.01)
            try fresh.importState(restored, parameterKeys: keys)
            #expect(fresh.state(of: parameter)?.step == 3)
            #expect(try fresh.state(of: parameter)!.secondMoment.equals(optimizer.state(of: parameter)!.secondMoment))
            #expect(fresh.learningRate == optimizer.learningRate)
        }
    }
}
