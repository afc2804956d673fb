import Foundation
import Testing

@testable import BriVLSearch

/// An exact store in Swift arrays, written as one JSON file: a stand-in engine for the indexer and the searcher.
final class MemoryVectorStore: PersistentVectorStore, @unchecked Sendable {
    struct Contents: Codable {
        var dimension: Int
        var ids: [Int64]
        var vectors: [Float]
    }

    private var contents: Contents
    private let lock = NSLock()
    let factory: MemoryStoreFactory

    init(dimension: Int, factory: MemoryStoreFactory) {
        contents = Contents(dimension: dimension, ids: [], vectors: [])
        self.factory = factory
    }

    init(contentsOf path: String, factory: MemoryStoreFactory) throws {
        contents = try JSONDecoder().decode(Contents.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        self.factory = factory
    }

    var dimension: Int { contents.dimension }
    var count: Int { lock.withLock { contents.ids.count } }
    var supportsRemoval: Bool { true }

    func train(_ vectors: [Float]) throws {}

    func add(_ vectors: [Float], ids: [Int64]) throws {
        guard vectors.count == ids.count * dimension else { throw SearchError.invalidArgument("bad shape") }
        lock.withLock {
            contents.ids += ids
            contents.vectors += vectors
        }
    }

    func remove(ids: [Int64]) throws -> Int {
        let doomed = Set(ids)
        return lock.withLock {
            var kept = Contents(dimension: dimension, ids: [], vectors: [])
            for (row, id) in contents.ids.enumerated() where !doomed.contains(id) {
                kept.ids.append(id)
                kept.vectors += contents.vectors[row * dimension..<(row + 1) * dimension]
            }
            defer { contents = kept }
            return contents.ids.count - kept.ids.count
        }
    }

    func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]] {
        factory.record(searches: 1)
        return lock.withLock {
            stride(from: 0, to: queries.count, by: dimension).map { start in
                let query = queries[start..<start + dimension]
                let matches = contents.ids.enumerated().map { row, id in
                    let vector = contents.vectors[row * dimension..<(row + 1) * dimension]
                    return VectorMatch(id: id, score: zip(query, vector).reduce(0) { $0 + $1.0 * $1.1 })
                }
                return Array(matches.sorted { $0.score > $1.score }.prefix(k))
            }
        }
    }

    func write(to path: String) throws {
        try JSONEncoder().encode(lock.withLock { contents }).write(to: URL(fileURLWithPath: path))
    }
}

/// Makes ``MemoryVectorStore``s and counts what the indexer and the searcher asked of it.
final class MemoryStoreFactory: VectorStoreFactory, @unchecked Sendable {
    private let lock = NSLock()
    private var counts = (made: 0, opened: 0, searches: 0)

    var made: Int { lock.withLock { counts.made } }
    var opened: Int { lock.withLock { counts.opened } }
    var searches: Int { lock.withLock { counts.searches } }

    func record(searches: Int) { lock.withLock { counts.searches += searches } }

    func makeStore(kind: IndexKind, dimension: Int, expectedCount: Int, tuning: IndexKind.Tuning) throws
        -> any PersistentVectorStore
    {
        lock.withLock { counts.made += 1 }
        return MemoryVectorStore(dimension: dimension, factory: self)
    }

    func openStore(at path: String, kind: IndexKind, tuning: IndexKind.Tuning) throws -> any PersistentVectorStore {
        lock.withLock { counts.opened += 1 }
        return try MemoryVectorStore(contentsOf: path, factory: self)
    }
}

@Suite("The indexer and the searcher work through an injected vector store")
struct InjectedStoreTests {
    @Test("an in-memory store builds, updates and answers the same as FAISS's exact index")
    func memoryStoreStandsInForFaiss() throws {
        let root = try SearchFixtures.temporaryDirectory("injected")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        let embedder = ColourEmbedder()
        let factory = MemoryStoreFactory()
        let memory = CollectionIndexer(
            directory: IndexDirectory(path: "\(root)/memory"), embedder: embedder,
            options: IndexingOptions(kind: .flat, batchSize: 4), stores: factory)
        let faiss = CollectionIndexer(
            directory: IndexDirectory(path: "\(root)/faiss"), embedder: embedder,
            options: IndexingOptions(kind: .flat, batchSize: 4))

        _ = try memory.update(root: photos)
        _ = try faiss.update(root: photos)
        #expect(factory.made == 1 && factory.opened == 0)
        // A second build with a change updates the previous generation's store in place.
        try FileManager.default.removeItem(atPath: "\(photos)/more/black.png")
        let updated = try memory.update(root: photos)
        _ = try faiss.update(root: photos)
        #expect(!updated.rebuilt && factory.opened == 1 && updated.total == 5)

        let fromMemory = try Searcher(index: SearchIndex(path: "\(root)/memory", stores: factory), embedder: embedder)
        let fromFaiss = try Searcher(index: SearchIndex(path: "\(root)/faiss"), embedder: embedder)
        #expect(fromMemory.index.store is MemoryVectorStore)
        for query in ["red", "blue", "绿色"] {
            let ours = try fromMemory.search(text: query, k: 3)
            let theirs = try fromFaiss.search(text: query, k: 3)
            // Equal scores may come in either order, so the best hit and the scores are compared.
            #expect(ours.first?.path == theirs.first?.path, "\(query)")
            #expect(ours.count == theirs.count)
            for (a, b) in zip(ours, theirs) { #expect(abs(a.score - b.score) < 1e-5, "\(query)") }
        }
        #expect(factory.searches == 3)
    }
}
