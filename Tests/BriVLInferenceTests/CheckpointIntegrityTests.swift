import Foundation
import Testing
import Torch

@testable import BriVLInference

@Suite("Checkpoint directory: crashes, damage and bad input")
struct CheckpointIntegrityTests {
    @Test("leftovers of a crashed write are ignored by readers and removed by the next write")
    func crashedWrites() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            try directory.write(step: 100, tensors: ["model": try sampleTensors(seed: 1)])

            // A write that crashed just before its rename: complete contents, even a manifest, under the temporary
            // name; one that crashed while retiring an old checkpoint; and a `step-…` folder without a manifest.
            let crashed = (root as NSString).appendingPathComponent(".partial-step-00000200-0000")
            try FileManager.default.copyItem(
                atPath: (root as NSString).appendingPathComponent("step-00000100"), toPath: crashed)
            let retired = (root as NSString).appendingPathComponent(".retired-step-00000050-0000")
            try FileManager.default.createDirectory(atPath: retired, withIntermediateDirectories: false)
            let unfinished = (root as NSString).appendingPathComponent("step-00000300")
            try FileManager.default.createDirectory(atPath: unfinished, withIntermediateDirectories: false)
            try Safetensors.save(try sampleTensors(seed: 3), to: (unfinished as NSString).appendingPathComponent("model.safetensors"))

            #expect(try directory.checkpoints().map(\.step) == [100])
            #expect(try directory.latest()?.step == 100)
            #expect(!directory.contains(step: 300) && !directory.contains(step: 200))
            #expect(checkpointMessage { _ = try directory.checkpoint(step: 300) }.contains("incomplete"))

            try directory.write(step: 400, tensors: ["model": try sampleTensors(seed: 4)])
            #expect(try entries(root) == ["step-00000100", "step-00000300", "step-00000400"])
            #expect(try directory.latest()?.step == 400)
        }
    }

    @Test("a flipped byte, a truncated file or a missing file is detected on reading, naming the file")
    func damagedFiles() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            let checkpoint = try directory.write(
                step: 100, tensors: ["model": try sampleTensors(seed: 1), "optimizer": try sampleTensors(seed: 2)],
                documents: ["run": runDocument(step: 100)])
            let modelPath = (checkpoint.path as NSString).appendingPathComponent("model.safetensors")
            let size = try fileSize(modelPath)
            // A byte inside the tensor data: the file still parses, only the checksum can tell.
            try flipByte(in: modelPath, at: size - 3)
            #expect(try Safetensors.load(modelPath).count == 9)
            let corrupt = checkpointMessage { _ = try checkpoint.tensors("model") }
            #expect(corrupt.contains("model.safetensors") && corrupt.contains("checksum"))
            #expect(checkpointMessage { try checkpoint.verify() }.contains("model.safetensors"))
            // The other files are unaffected.
            try expectIdentical(try checkpoint.tensors("optimizer"), try sampleTensors(seed: 2))
            #expect(try checkpoint.document("run", as: RunDocument.self) == runDocument(step: 100))

            let documentPath = (checkpoint.path as NSString).appendingPathComponent("run.json")
            try flipByte(in: documentPath, at: 10)
            #expect(checkpointMessage { _ = try checkpoint.document("run", as: RunDocument.self) }.contains("checksum"))

            let optimizerPath = (checkpoint.path as NSString).appendingPathComponent("optimizer.safetensors")
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: optimizerPath))
            try handle.truncate(atOffset: UInt64(try fileSize(optimizerPath) - 16))
            try handle.close()
            let truncated = checkpointMessage { _ = try checkpoint.tensors("optimizer") }
            #expect(truncated.contains("truncated") && truncated.contains("optimizer.safetensors"))

            try FileManager.default.removeItem(atPath: optimizerPath)
            #expect(checkpointMessage { _ = try checkpoint.tensors("optimizer") }.contains("missing"))

            // Asking for what was never written names what there is.
            let absent = checkpointMessage { _ = try checkpoint.tensors("ema") }
            #expect(absent.contains("no tensor group named ema") && absent.contains("model, optimizer"))
            let noDocument = checkpointMessage { _ = try checkpoint.document("loader", as: RunDocument.self) }
            #expect(noDocument.contains("no document named loader") && noDocument.contains("run"))
        }
    }

    @Test("a damaged manifest makes the folder no checkpoint; a document of another type does not decode")
    func damagedManifestAndWrongType() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            try directory.write(step: 1, documents: ["run": runDocument(step: 1)])
            let second = try directory.write(step: 2, documents: ["run": runDocument(step: 2)])
            #expect(checkpointMessage { _ = try second.document("run", as: [String: String].self) }.contains("does not decode"))

            let manifestPath = (second.path as NSString).appendingPathComponent("manifest.json")
            try Data("{\"format\": 1, \"step\": ".utf8).write(to: URL(fileURLWithPath: manifestPath))
            #expect(try directory.latest()?.step == 1, "a checkpoint whose manifest is damaged is not used")
            #expect(checkpointMessage { _ = try directory.checkpoint(step: 2) }.contains("unreadable"))

            // A manifest of another step (a folder renamed by hand) is refused too.
            let moved = (root as NSString).appendingPathComponent("step-00000009")
            try FileManager.default.copyItem(atPath: (root as NSString).appendingPathComponent("step-00000001"), toPath: moved)
            #expect(checkpointMessage { _ = try directory.checkpoint(step: 9) }.contains("describes step 1"))
            #expect(try directory.checkpoints().map(\.step) == [1])
        }
    }

    @Test("bad names and steps are refused before anything is written")
    func badInput() throws {
        try withCheckpointRoot { root in
            let directory = try CheckpointDirectory(root: root)
            let tensors = try sampleTensors(seed: 1)
            for name in ["", ".hidden", "../escape", "a/b", "manifest", "名字", "with space"] {
                let message = checkpointMessage { try directory.write(step: 1, tensors: [name: tensors]) }
                #expect(message.contains("cannot name"), "\(name)")
                _ = checkpointMessage { try directory.write(step: 1, documents: [name: runDocument(step: 1)]) }
            }
            #expect(checkpointMessage { try directory.write(step: -1, tensors: ["model": tensors]) }.contains("-1"))
            #expect(try entries(root).isEmpty)
            // Dots, dashes and underscores are fine.
            try directory.write(step: 1, tensors: ["model.ema_v-2": tensors])
            try expectIdentical(try directory.checkpoint(step: 1).tensors("model.ema_v-2"), tensors)
        }
    }

    @Test("folder names carry at least eight digits and only canonical names are steps")
    func folderNames() {
        #expect(CheckpointDirectory.folderName(step: 0) == "step-00000000")
        #expect(CheckpointDirectory.folderName(step: 100) == "step-00000100")
        #expect(CheckpointDirectory.folderName(step: 123_456_789) == "step-123456789")
        #expect(CheckpointDirectory.step(ofFolder: "step-00000100") == 100)
        #expect(CheckpointDirectory.step(ofFolder: "step-123456789") == 123_456_789)
        for name in ["step-100", "step-", "step-0000010a", ".partial-step-00000100-x", "step-00000100.tmp", "step--0000001"] {
            #expect(CheckpointDirectory.step(ofFolder: name) == nil, "\(name)")
        }
    }

    @Test("the exchange swaps two folders in one step")
    func exchange() throws {
        try withCheckpointRoot { root in
            let first = (root as NSString).appendingPathComponent("first")
            let second = (root as NSString).appendingPathComponent("second")
            for (folder, file) in [(first, "a"), (second, "b")] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
                try Data(file.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(file)))
            }
            try #require(DurableFiles.exchange(first, second), "renameat2/renamex_np is unavailable here")
            #expect(try entries(first) == ["b"])
            #expect(try entries(second) == ["a"])
        }
    }
}
