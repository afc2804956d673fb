import Foundation
import Torch

/// A folder of checkpoints, `ROOT/step-00000100/`, written so that a crash at any moment never leaves a
/// `step-…` folder that looks complete but is not.
///
/// A checkpoint is written into a hidden temporary sibling (`.partial-step-…`), every file and the folder are
/// flushed to the disk, the manifest (sizes and checksums) is written last, and only then is the folder renamed into
/// place. Readers only consider `step-…` folders with a manifest, so leftovers of a crashed write are invisible to
/// them; the next write removes them. Rewriting an existing step swaps the new folder in atomically (renameat2 on
/// Linux, renamex_np on macOS). After a successful write, all but the newest `keepLast` checkpoints are removed.
///
/// One process writes to a root at a time (the one that trains); any number may read.
public struct CheckpointDirectory: Sendable {
    public let root: String
    /// How many checkpoints a write leaves (the newest by step); nil keeps all.
    public let keepLast: Int?
    /// Whether an existing step is replaced by an atomic exchange where the system offers one; the fallback moves
    /// the old folder aside first, which leaves a moment without either.
    var usesAtomicExchange = true

    static let folderPrefix = "step-"
    /// Folders of writes in progress (or crashed) and of checkpoints being removed; never read, always removable.
    static let scratchPrefixes = [".partial-", ".retired-"]

    public init(root: String, keepLast: Int? = nil) throws {
        if let keepLast, keepLast < 1 {
            throw InferenceError.invalidArgument(
                "a checkpoint folder must keep at least 1 checkpoint, got \(keepLast)")
        }
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw InferenceError.checkpoint("cannot create the checkpoint folder \(root): \(error)")
        }
        self.root = root
        self.keepLast = keepLast
    }

    /// `step-00000100`: eight digits at least, so names sort like steps up to 10⁸.
    public static func folderName(step: Int) -> String {
        let digits = String(step)
        return folderPrefix + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// The step of a folder name in the form ``folderName(step:)`` writes, nil for anything else.
    static func step(ofFolder name: String) -> Int? {
        guard name.hasPrefix(folderPrefix) else { return nil }
        let digits = name.dropFirst(folderPrefix.count)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let step = Int(digits),
            folderName(step: step) == name
        else { return nil }
        return step
    }

    private func path(_ name: String) -> String { (root as NSString).appendingPathComponent(name) }

    // MARK: - Reading

    /// The complete checkpoints, oldest first. Folders without a readable manifest (or whose manifest names
    /// another step) are not checkpoints and are left out; their files are not read.
    public func checkpoints() throws -> [Checkpoint] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw InferenceError.checkpoint("cannot list the checkpoint folder \(root): \(error)")
        }
        return names.compactMap { name in Self.step(ofFolder: name).flatMap { try? checkpoint(step: $0) } }
            .sorted { $0.step < $1.step }
    }

    /// The complete checkpoint with the highest step, nil when there is none.
    public func latest() throws -> Checkpoint? { try checkpoints().last }

    /// A newer checkpoint passed over because one of its files does not verify.
    public struct DamagedCheckpoint: Sendable, Equatable, CustomStringConvertible {
        public let step: Int
        public let reason: String
        public var description: String { "checkpoint of step \(step) is damaged (\(reason))" }
    }

    /// The newest checkpoint whose every file has its recorded size and checksum, and the newer ones passed over:
    /// a checkpoint damaged after it was written (a bad disk, a partial copy) does not block the intact one
    /// before it. Reads each file of each checkpoint it tries.
    public func latestIntact() throws -> (checkpoint: Checkpoint?, damaged: [DamagedCheckpoint]) {
        var damaged: [DamagedCheckpoint] = []
        for checkpoint in try checkpoints().reversed() {
            do {
                try checkpoint.verify()
                return (checkpoint, damaged)
            } catch {
                damaged.append(DamagedCheckpoint(step: checkpoint.step, reason: "\(error)"))
            }
        }
        return (nil, damaged)
    }

    /// Whether a complete checkpoint of `step` exists.
    public func contains(step: Int) -> Bool { (try? checkpoint(step: step)) != nil }

    /// The checkpoint of `step`, with a message saying why when it is absent or incomplete.
    public func checkpoint(step: Int) throws -> Checkpoint {
        let folder = path(Self.folderName(step: step))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InferenceError.checkpoint("no checkpoint of step \(step) in \(root)")
        }
        let manifestPath = (folder as NSString).appendingPathComponent(CheckpointManifest.fileName)
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw InferenceError.checkpoint("\(folder) is incomplete: it has no \(CheckpointManifest.fileName)")
        }
        let manifest: CheckpointManifest
        do {
            manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch {
            throw InferenceError.checkpoint("\(manifestPath) is unreadable: \(error)")
        }
        guard manifest.format <= CheckpointManifest.currentFormat else {
            throw InferenceError.checkpoint(
                "\(folder) has layout version \(manifest.format); this program reads up to \(CheckpointManifest.currentFormat)")
        }
        guard manifest.step == step else {
            throw InferenceError.checkpoint("\(manifestPath) describes step \(manifest.step), not \(step)")
        }
        return Checkpoint(step: step, path: folder, manifest: manifest)
    }

    // MARK: - Writing

    /// Writes checkpoint `step`: each tensor group as `<name>.safetensors`, each document as `<name>.json`
    /// (pretty-printed, sorted keys), then the manifest; the folder appears complete or not at all. An existing
    /// checkpoint of the same step is replaced. Then removes leftovers of crashed writes and, with ``keepLast``,
    /// the checkpoints beyond the newest ones (never the one just written).
    ///
    /// Names are plain file names: letters, digits, `.`, `_` and `-`, not starting with `.`; a tensor group and
    /// a document may share a name (`optimizer.safetensors` and `optimizer.json`).
    @discardableResult
    public func write(
        step: Int, tensors: [String: [String: Tensor]] = [:], documents: [String: any Encodable] = [:]
    ) throws -> Checkpoint {
        guard step >= 0 else { throw InferenceError.checkpoint("checkpoint steps are ≥ 0, got \(step)") }
        for name in Array(tensors.keys) + Array(documents.keys) { try Self.checkName(name) }
        try removeScratchFolders()

        let name = Self.folderName(step: step)
        let temporary = path(".partial-\(name)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        } catch {
            throw InferenceError.checkpoint("cannot create \(temporary): \(error)")
        }
        do {
            try writeContents(into: temporary, step: step, tensors: tensors, documents: documents)
            try install(temporary, as: path(name))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if error is InferenceError { throw error }
            throw InferenceError.checkpoint("cannot write checkpoint \(name) in \(root): \(error)")
        }
        try applyRetention(keeping: step)
        return try checkpoint(step: step)
    }

    static func checkName(_ name: String) throws {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0))
        }
        guard !name.isEmpty, allowed, !name.hasPrefix("."), name != "manifest" else {
            throw InferenceError.checkpoint(
                "'\(name)' cannot name a checkpoint file: use letters, digits, '.', '_' and '-', not starting with '.', and not 'manifest'")
        }
    }

    private func writeContents(
        into folder: String, step: Int, tensors: [String: [String: Tensor]], documents: [String: any Encodable]
    ) throws {
        func filePath(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        var fileNames: [String] = []
        for (name, group) in tensors.sorted(by: { $0.key < $1.key }) {
            let fileName = name + Checkpoint.tensorExtension
            do {
                try Safetensors.save(group, to: filePath(fileName))
            } catch {
                throw InferenceError.checkpoint("cannot write tensor group \(name): \(error)")
            }
            fileNames.append(fileName)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for (name, document) in documents.sorted(by: { $0.key < $1.key }) {
            let fileName = name + Checkpoint.documentExtension
            let data: Data
            do {
                data = try encoder.encode(document)
            } catch {
                throw InferenceError.checkpoint("cannot encode document \(name): \(error)")
            }
            try DurableFiles.writeFile(data, to: filePath(fileName))
            fileNames.append(fileName)
        }
        // Checksums are taken from the files as written, each flushed to the disk on the way.
        let files = try fileNames.map { fileName in
            let measured = try FileChecksum.measure(filePath(fileName), synchronize: true)
            return CheckpointManifest.File(name: fileName, bytes: measured.bytes, checksum: measured.checksum)
        }
        let encodedManifest = try encoder.encode(CheckpointManifest(step: step, files: files))
        try DurableFiles.writeFile(encodedManifest, to: filePath(CheckpointManifest.fileName))
        try DurableFiles.synchronizeDirectory(folder)
    }

    /// Renames the finished temporary folder to its final name, replacing an existing folder of that name.
    private func install(_ temporary: String, as destination: String) throws {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) {
            try DurableFiles.move(temporary, to: destination)
            try DurableFiles.synchronizeDirectory(root)
            return
        }
        guard isDirectory.boolValue else {
            throw InferenceError.checkpoint("\(destination) exists and is not a folder")
        }
        if usesAtomicExchange && DurableFiles.exchange(temporary, destination) {
            // The old checkpoint now sits under the temporary name.
            try DurableFiles.synchronizeDirectory(root)
            try? FileManager.default.removeItem(atPath: temporary)
            return
        }
        let retired = path(".retired-\((destination as NSString).lastPathComponent)-\(UUID().uuidString)")
        try DurableFiles.move(destination, to: retired)
        try DurableFiles.move(temporary, to: destination)
        try DurableFiles.synchronizeDirectory(root)
        try? FileManager.default.removeItem(atPath: retired)
    }

    /// Removes every complete checkpoint but the newest `keepLast` and `kept`. Each is first renamed out of the
    /// `step-…` namespace, so a crash halfway through a removal never leaves a partial folder that looks complete.
    private func applyRetention(keeping kept: Int) throws {
        guard let keepLast else { return }
        let complete = try checkpoints()
        let surplus = complete.dropLast(keepLast).filter { $0.step != kept }
        for checkpoint in surplus {
            let retired = path(".retired-\((checkpoint.path as NSString).lastPathComponent)-\(UUID().uuidString)")
            try DurableFiles.move(checkpoint.path, to: retired)
            try? FileManager.default.removeItem(atPath: retired)
        }
        if !surplus.isEmpty { try DurableFiles.synchronizeDirectory(root) }
    }

    /// Removes the temporary folders of crashed writes and removals.
    private func removeScratchFolders() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names where Self.scratchPrefixes.contains(where: { name.hasPrefix($0) }) {
            do {
                try FileManager.default.removeItem(atPath: path(name))
            } catch {
                throw InferenceError.checkpoint("cannot remove the leftover \(path(name)): \(error)")
            }
        }
    }
}
