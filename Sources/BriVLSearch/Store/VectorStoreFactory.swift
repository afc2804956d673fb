import Foundation

/// A ``VectorStore`` that an index generation can own: trained (for quantising kinds), written to its generation's
/// folder and read back from it.
public protocol PersistentVectorStore: VectorStore {
    /// Prepares a store whose kind learns from its data (IVF's cells) on a sample of the vectors; a no-op otherwise.
    func train(_ vectors: [Float]) throws
    func write(to path: String) throws
}

/// Makes the stores the indexer builds and the searcher loads, so that both work through ``VectorStore`` and another
/// engine (an in-memory store in tests, a server's client) can stand in for FAISS.
public protocol VectorStoreFactory: Sendable {
    /// An empty store of `kind` sized for about `expectedCount` vectors.
    func makeStore(kind: IndexKind, dimension: Int, expectedCount: Int, tuning: IndexKind.Tuning) throws
        -> any PersistentVectorStore
    /// The store a generation wrote at `path`.
    func openStore(at path: String, kind: IndexKind, tuning: IndexKind.Tuning) throws -> any PersistentVectorStore
}

/// The embedded default: FAISS indexes in FAISS's file format.
public struct FaissStoreFactory: VectorStoreFactory {
    public init() {}

    public func makeStore(kind: IndexKind, dimension: Int, expectedCount: Int, tuning: IndexKind.Tuning) throws
        -> any PersistentVectorStore
    {
        try FaissVectorStore(kind: kind, dimension: dimension, expectedCount: expectedCount, tuning: tuning)
    }

    public func openStore(at path: String, kind: IndexKind, tuning: IndexKind.Tuning) throws -> any PersistentVectorStore {
        try FaissVectorStore(contentsOf: path, kind: kind, tuning: tuning)
    }
}

extension FaissVectorStore: PersistentVectorStore {}
