import Foundation

/// The FAISS index structure a collection is stored in.
///
/// Exact search needs no building or tuning and is always right; one query over 100k 256-d vectors takes about
/// 20 ms on one core (`brivl bench search`), so it is the default until a collection grows past
/// ``automaticThreshold``. Beyond that an approximate index keeps queries near a millisecond: IVF (k-means cells,
/// `nprobe` of them scanned per query) is the automatic choice because it builds in seconds and removes vectors in
/// place; HNSW (a graph) answers faster at the same recall but took minutes per 100k vectors to build with Debian's
/// FAISS and cannot remove vectors, so the indexer rebuilds it when files are deleted.
public enum IndexKind: String, Sendable, Codable, CaseIterable {
    case flat
    case ivf
    case hnsw

    /// Collections up to this size use exact search when the kind is chosen automatically.
    public static let automaticThreshold = 200_000

    /// The kind for a collection of `count` vectors when the user did not choose one.
    public static func automatic(count: Int) -> IndexKind {
        count <= automaticThreshold ? .flat : .ivf
    }

    /// Build and search settings. The IVF defaults reached recall@10 ≥ 0.99 against exact search on clustered
    /// random vectors in `brivl bench search` (see docs/search.md); on vectors without any structure no cell
    /// layout helps and recall is far lower.
    public struct Tuning: Sendable, Equatable, Codable {
        /// HNSW: neighbours per node (graph degree) when building.
        public var hnswNeighbours: Int = 32
        /// HNSW: candidate list length when building.
        public var hnswBuildDepth: Int = 80
        /// HNSW: candidate list length when searching.
        public var hnswSearchDepth: Int = 128
        /// IVF: cells, or nil for 4·√n (FAISS's rule of thumb is 4–16·√n).
        public var ivfCells: Int? = nil
        /// IVF: cells scanned per query.
        public var ivfProbes: Int = 32

        public init() {}

        /// The number of IVF cells for `count` vectors: at least 1, at most one per 39 vectors so k-means has
        /// enough points per centroid.
        public func cells(count: Int) -> Int {
            let wanted = ivfCells ?? Int(4 * Double(count).squareRoot())
            return Swift.max(1, Swift.min(wanted, count / 39))
        }
    }

    /// The FAISS factory description of this kind for `count` vectors. Every kind maps the catalog's ids directly
    /// (IVF stores ids itself; the others sit inside an id map).
    public func factoryDescription(count: Int, tuning: Tuning) -> String {
        switch self {
        case .flat: "IDMap,Flat"
        case .ivf: "IVF\(tuning.cells(count: count)),Flat"
        case .hnsw: "IDMap,HNSW\(tuning.hnswNeighbours),Flat"
        }
    }
}
