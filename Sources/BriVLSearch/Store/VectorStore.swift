import Foundation

/// One hit of a vector search: the stored vector's id and its inner product with the query (the cosine, for
/// normalised embeddings).
public struct VectorMatch: Sendable, Equatable, Codable {
    public var id: Int64
    public var score: Float

    public init(id: Int64, score: Float) {
        self.id = id
        self.score = score
    }
}

/// Where embeddings live and how the nearest ones are found.
///
/// The indexer and the searcher only talk to this protocol, so the embedded FAISS default (``FaissVectorStore``) can
/// be replaced by a store that is a client of a vector-search server, or by one that scatters a query over shards
/// and gathers their answers (``ShardedVectorStore``). Vectors are row-major `Float`s, `dimension` per vector.
public protocol VectorStore: AnyObject, Sendable {
    var dimension: Int { get }
    /// Vectors currently stored.
    var count: Int { get }
    /// Whether ``remove(ids:)`` works; stores that cannot remove are rebuilt from the catalog's vectors instead.
    var supportsRemoval: Bool { get }

    func add(_ vectors: [Float], ids: [Int64]) throws
    /// Removes the vectors with these ids; unknown ids are ignored. Returns how many were removed.
    @discardableResult func remove(ids: [Int64]) throws -> Int
    /// The `k` best matches of each query, best first (fewer when the store holds fewer vectors).
    func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]]
}

extension VectorStore {
    /// The `k` best matches of one query.
    public func nearest(to query: [Float], k: Int) throws -> [VectorMatch] {
        try search(query, k: k).first ?? []
    }
}
