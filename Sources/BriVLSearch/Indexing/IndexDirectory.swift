import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The on-disk layout of an index, built so that a reader never sees a half-written one:
///
/// ```
/// INDEX/
///   CURRENT                      the name of the live generation (replaced by an atomic rename)
///   LOCK                         held (flock) by the one build running
///   generations/000007/          one complete generation:
///     catalog.sqlite               metadata and vectors (SQLite)
///     vectors.faiss                the FAISS index
///     manifest.json                kind, counts, model; written last
/// ```
///
/// A build writes a new generation folder and only then points `CURRENT` at it, so a crash at any moment leaves
/// `CURRENT` naming the previous, complete generation. Generations newer than the live one are leftovers of a
/// crashed build and are deleted by the next one; older ones are kept for a while because a running server may
/// still be reading them.
public struct IndexDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    var generationsPath: String { (path as NSString).appendingPathComponent("generations") }
    var lockPath: String { (path as NSString).appendingPathComponent("LOCK") }

    /// Runs `body` holding the index's write lock (an exclusive `flock` on `INDEX/LOCK`, released by the kernel
    /// if the process dies): a second build of the same index is refused at once instead of deleting the first
    /// one's generation in progress. Readers take no lock.
    public func withWriteLock<Result>(_ body: () throws -> Result) throws -> Result {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SearchError.io(path: lockPath, message: "cannot open the index lock: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK {
                throw SearchError.index(
                    path: path, message: "the index is in use: another brivl index is building it; wait for it to finish")
            }
            throw SearchError.io(path: lockPath, message: "cannot lock the index: \(String(cString: strerror(errno)))")
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
    var pointerPath: String { (path as NSString).appendingPathComponent("CURRENT") }

    /// The live generation, or nil when none was published yet.
    public func current() throws -> Generation? {
        guard let text = try? String(contentsOfFile: pointerPath, encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let number = Int(name) else {
            throw SearchError.index(path: path, message: "CURRENT names '\(name)', not a generation")
        }
        let generation = Generation(number: number, path: (generationsPath as NSString).appendingPathComponent(name))
        guard FileManager.default.fileExists(atPath: generation.manifestPath) else {
            throw SearchError.index(path: path, message: "generation \(name) has no manifest")
        }
        return generation
    }

    /// A new, empty generation folder numbered after every existing one.
    public func makeGeneration() throws -> Generation {
        let highest = existingNumbers().max() ?? 0
        let number = highest + 1
        let generation = Generation(number: number, path: (generationsPath as NSString).appendingPathComponent(Generation.name(number)))
        do {
            try FileManager.default.createDirectory(atPath: generation.path, withIntermediateDirectories: true)
        } catch {
            throw SearchError.io(path: generation.path, message: "cannot create: \(error.localizedDescription)")
        }
        return generation
    }

    /// Makes `generation` the live one: its files are flushed, then `CURRENT` is replaced in one rename.
    public func publish(_ generation: Generation) throws {
        for file in [generation.catalogPath, generation.vectorsPath, generation.manifestPath] { try Self.flush(file) }
        Self.flush(directory: generation.path)
        let temporary = pointerPath + ".tmp"
        do {
            try Data((Generation.name(generation.number) + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw SearchError.io(path: temporary, message: "\(error.localizedDescription)")
        }
        try Self.flush(temporary)
        guard rename(temporary, pointerPath) == 0 else {
            throw SearchError.io(path: pointerPath, message: String(cString: strerror(errno)))
        }
        Self.flush(directory: path)
    }

    /// Deletes crashed builds (generations newer than the live one) and all but the `keep` newest published ones.
    public func removeStaleGenerations(keep: Int) throws {
        let live = try current()?.number ?? 0
        let published = existingNumbers().filter { $0 <= live }.sorted(by: >)
        let stale = existingNumbers().filter { $0 > live } + published.dropFirst(Swift.max(1, keep))
        for number in stale {
            try? FileManager.default.removeItem(atPath: (generationsPath as NSString).appendingPathComponent(Generation.name(number)))
        }
    }

    private func existingNumbers() -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: generationsPath)) ?? []).compactMap { Int($0) }
    }

    private static func flush(_ file: String) throws {
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0 else { throw SearchError.io(path: file, message: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw SearchError.io(path: file, message: String(cString: strerror(errno))) }
    }

    /// A rename is durable once its folder is flushed; failure to flush a folder is not fatal on file systems
    /// that do not allow it.
    private static func flush(directory: String) {
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }
}

/// One generation folder of an ``IndexDirectory``.
public struct Generation: Sendable, Equatable {
    public let number: Int
    public let path: String

    public var catalogPath: String { (path as NSString).appendingPathComponent("catalog.sqlite") }
    public var vectorsPath: String { (path as NSString).appendingPathComponent("vectors.faiss") }
    public var manifestPath: String { (path as NSString).appendingPathComponent("manifest.json") }

    static func name(_ number: Int) -> String { String(format: "%06d", number) }

    public func readManifest() throws -> IndexManifest {
        do {
            return try JSONDecoder().decode(IndexManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } catch {
            throw SearchError.index(path: path, message: "unreadable manifest: \(error)")
        }
    }

    func writeManifest(_ manifest: IndexManifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath))
        } catch {
            throw SearchError.io(path: manifestPath, message: "\(error.localizedDescription)")
        }
    }
}

/// What a generation holds; written last, so its presence marks a complete generation.
public struct IndexManifest: Sendable, Codable, Equatable {
    public var generation: Int
    public var kind: IndexKind
    public var tuning: IndexKind.Tuning
    public var count: Int
    public var dimension: Int
    /// The folder the catalog's paths are relative to (absolute).
    public var root: String
    public var modelIdentity: String
    public var created: Date
}
