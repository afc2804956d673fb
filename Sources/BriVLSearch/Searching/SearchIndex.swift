import Foundation

/// Narrows a search to part of the collection.
public struct SearchFilter: Sendable, Equatable, Codable {
    /// Only images whose path (relative to the root) starts with this.
    public var pathPrefix: String?

    public init(pathPrefix: String? = nil) {
        self.pathPrefix = pathPrefix
    }

    public var isEmpty: Bool { pathPrefix?.isEmpty ?? true }

    func admits(_ entry: CatalogEntry) -> Bool {
        guard let pathPrefix, !pathPrefix.isEmpty else { return true }
        return entry.path.hasPrefix(pathPrefix)
    }
}

/// One search result.
public struct SearchHit: Sendable, Equatable, Codable {
    public var id: Int64
    public var path: String
    public var score: Float
    public var caption: String?
}

/// The live generation of an index, loaded for searching: the vector store and every entry's metadata in memory.
/// Read-only and safe to share between concurrent requests.
public final class SearchIndex: Sendable {
    public let directory: IndexDirectory
    public let generation: Generation
    public let manifest: IndexManifest
    public let store: any VectorStore
    private let entriesByID: [Int64: CatalogEntry]
    private let idsByPath: [String: Int64]

    public var count: Int { entriesByID.count }
    public var root: String { manifest.root }

    /// Loads the generation that `CURRENT` names, its vectors through `stores`.
    public init(path: String, tuning: IndexKind.Tuning? = nil, stores: any VectorStoreFactory = FaissStoreFactory()) throws {
        directory = IndexDirectory(path: path)
        guard let generation = try directory.current() else {
            throw SearchError.index(path: path, message: "no index here yet: run `brivl index` first")
        }
        self.generation = generation
        manifest = try generation.readManifest()
        store = try stores.openStore(at: generation.vectorsPath, kind: manifest.kind, tuning: tuning ?? manifest.tuning)
        let entries = try Catalog(path: generation.catalogPath, readOnly: true).entries()
        entriesByID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
        idsByPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.id) })
        guard store.count == entries.count else {
            throw SearchError.index(
                path: generation.path, message: "the vector index holds \(store.count) vectors, the catalog \(entries.count)")
        }
    }

    public func entry(id: Int64) -> CatalogEntry? { entriesByID[id] }

    public func entry(path: String) -> CatalogEntry? { idsByPath[path].flatMap { entriesByID[$0] } }

    /// The `k` images nearest to `query`, best first. A filter is applied to a growing number of candidates until
    /// `k` pass or the whole collection was considered.
    public func search(vector query: [Float], k: Int, filter: SearchFilter = .init()) throws -> [SearchHit] {
        guard query.count == manifest.dimension else {
            throw SearchError.invalidArgument("the query has \(query.count) dimensions, the index \(manifest.dimension)")
        }
        guard k > 0 else { throw SearchError.invalidArgument("k must be positive") }
        var candidates = filter.isEmpty ? k : k * 8
        while true {
            let matches = try store.nearest(to: query, k: candidates)
            let hits = matches.compactMap { match -> SearchHit? in
                guard let entry = entriesByID[match.id], filter.admits(entry) else { return nil }
                return SearchHit(id: entry.id, path: entry.path, score: match.score, caption: entry.caption)
            }
            if hits.count >= k || matches.count < candidates || candidates >= count {
                return Array(hits.prefix(k))
            }
            candidates = Swift.min(candidates * 4, count)
        }
    }

    /// The absolute path of an indexed image, or nil when `relativePath` is not in the index. Only catalog paths
    /// resolve, so no request can reach a file outside the indexed folder (`..`, absolute paths, symbolic links
    /// added later are all refused).
    public func file(forPath relativePath: String) -> String? {
        guard entry(path: relativePath) != nil else { return nil }
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        let resolved = rootURL.appendingPathComponent(relativePath).standardizedFileURL.resolvingSymlinksInPath()
        let rootResolved = rootURL.resolvingSymlinksInPath().path
        guard resolved.path.hasPrefix(rootResolved.hasSuffix("/") ? rootResolved : rootResolved + "/") else { return nil }
        return resolved.path
    }

    /// Every vector in the collection with its id (read from the catalog).
    public func allVectors() throws -> (ids: [Int64], values: [Float]) {
        try Catalog(path: generation.catalogPath, readOnly: true).vectors(dimension: manifest.dimension)
    }
}
