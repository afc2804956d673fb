import CFaiss
import Foundation

/// The embedded default ``VectorStore``: one FAISS index in memory, saved to and read from one file.
///
/// Searches may run concurrently with each other (FAISS's search only reads). Adding, removing and tuning are for
/// the single writer that builds an index generation before anyone searches it; they are serialised among
/// themselves by a lock, not against searches.
public final class FaissVectorStore: VectorStore, @unchecked Sendable {
    private let handle: cf_index
    public let kind: IndexKind
    private let lock = NSLock()

    public let dimension: Int
    public var count: Int { Int(lock.withLock { cf_index_count(handle) }) }
    public var supportsRemoval: Bool { kind != .hnsw }

    /// An empty index of `kind` sized for about `expectedCount` vectors (IVF chooses its cells from it).
    public init(kind: IndexKind, dimension: Int, expectedCount: Int, tuning: IndexKind.Tuning = .init()) throws {
        guard dimension > 0 else { throw SearchError.invalidArgument("vector dimension must be positive, got \(dimension)") }
        var out: cf_index? = nil
        try Self.check(cf_index_factory(&out, Int32(dimension), kind.factoryDescription(count: expectedCount, tuning: tuning)))
        handle = out!
        self.kind = kind
        self.dimension = dimension
        try applySearchTuning(tuning)
        if kind == .hnsw { try setBuildDepth(tuning.hnswBuildDepth) }
    }

    /// Reads an index written by ``write(to:)``.
    public init(contentsOf path: String, kind: IndexKind, tuning: IndexKind.Tuning = .init()) throws {
        var out: cf_index? = nil
        try Self.check(cf_index_read(&out, path), path: path)
        handle = out!
        self.kind = kind
        dimension = Int(cf_index_dimension(handle))
        try applySearchTuning(tuning)
    }

    deinit { cf_index_free(handle) }

    /// Trains the quantiser of an IVF index on a sample of the vectors it will hold (a no-op for the other kinds).
    public func train(_ vectors: [Float]) throws {
        try checkShape(vectors)
        guard !cf_index_is_trained(handle) else { return }
        try lock.withLock {
            try vectors.withUnsafeBufferPointer {
                try Self.check(cf_index_train(handle, Int64(vectors.count / dimension), $0.baseAddress))
            }
        }
    }

    public func add(_ vectors: [Float], ids: [Int64]) throws {
        try checkShape(vectors)
        guard vectors.count / dimension == ids.count else {
            throw SearchError.invalidArgument("\(vectors.count / dimension) vectors but \(ids.count) ids")
        }
        guard !ids.isEmpty else { return }
        if !cf_index_is_trained(handle) { try train(vectors) }
        try lock.withLock {
            try vectors.withUnsafeBufferPointer { values in
                try ids.withUnsafeBufferPointer { idValues in
                    try Self.check(cf_index_add_with_ids(handle, Int64(ids.count), values.baseAddress, idValues.baseAddress))
                }
            }
        }
    }

    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        guard supportsRemoval else { throw SearchError.engine("\(kind.rawValue) indexes cannot remove vectors") }
        var removed: Int64 = 0
        try lock.withLock {
            try ids.withUnsafeBufferPointer { try Self.check(cf_index_remove_ids(handle, Int64(ids.count), $0.baseAddress, &removed)) }
        }
        return Int(removed)
    }

    public func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]] {
        try checkShape(queries)
        guard k > 0 else { throw SearchError.invalidArgument("k must be positive, got \(k)") }
        let queryCount = queries.count / dimension
        guard queryCount > 0 else { return [] }
        // FAISS allocates k results per query; asking for more than it holds only returns -1 ids.
        let available = Swift.max(1, count)
        let wanted = Swift.min(k, available)
        var scores = [Float](repeating: 0, count: queryCount * wanted)
        var ids = [Int64](repeating: -1, count: queryCount * wanted)
        try queries.withUnsafeBufferPointer { queryValues in
            try scores.withUnsafeMutableBufferPointer { scoreValues in
                try ids.withUnsafeMutableBufferPointer { idValues in
                    try Self.check(
                        cf_index_search(
                            handle, Int64(queryCount), queryValues.baseAddress, Int64(wanted), scoreValues.baseAddress,
                            idValues.baseAddress))
                }
            }
        }
        return (0..<queryCount).map { query in
            (0..<wanted).compactMap { rank in
                let slot = query * wanted + rank
                return ids[slot] < 0 ? nil : VectorMatch(id: ids[slot], score: scores[slot])
            }
        }
    }

    /// Writes the index to `path` (FAISS's format).
    public func write(to path: String) throws {
        try lock.withLock { try Self.check(cf_index_write(handle, path), path: path) }
    }

    /// Sets the search depth of an HNSW index or the probes of an IVF index.
    public func applySearchTuning(_ tuning: IndexKind.Tuning) throws {
        switch kind {
        case .flat: return
        case .hnsw: try setParameter("efSearch", tuning.hnswSearchDepth)
        case .ivf: try setParameter("nprobe", tuning.ivfProbes)
        }
    }

    /// FAISS's threads for building and for batches of queries.
    public static func setThreadCount(_ count: Int) {
        cf_set_num_threads(Int32(Swift.max(1, count)))
    }

    private func setBuildDepth(_ depth: Int) throws {
        // efConstruction is only read while adding; FAISS exposes it on the graph, set through the same entry point.
        try setParameter("efConstruction", depth)
    }

    private func setParameter(_ name: String, _ value: Int) throws {
        try lock.withLock { try Self.check(cf_index_set_parameter(handle, name, Int64(value))) }
    }

    private func checkShape(_ vectors: [Float]) throws {
        guard vectors.count % dimension == 0 else {
            throw SearchError.invalidArgument("\(vectors.count) values are not a whole number of \(dimension)-d vectors")
        }
    }

    private static func check(_ status: cf_status, path: String? = nil) throws {
        guard status != 0 else { return }
        let message = String(cString: cf_last_error())
        if let path { throw SearchError.io(path: path, message: message) }
        throw SearchError.engine(message)
    }
}
