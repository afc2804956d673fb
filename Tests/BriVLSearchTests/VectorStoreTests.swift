import Foundation
import Testing

@testable import BriVLSearch

@Suite("FAISS vector store")
struct VectorStoreTests {
    /// Unit vectors along the axes of 4-d space, ids 10, 11, 12, 13.
    static let axes: [Float] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    static let ids: [Int64] = [10, 11, 12, 13]

    @Test("exact search returns the caller's ids with inner-product scores, best first")
    func exactSearch() throws {
        let store = try FaissVectorStore(kind: .flat, dimension: 4, expectedCount: 4)
        try store.add(Self.axes, ids: Self.ids)
        let matches = try store.nearest(to: [0.8, 0.6, 0, 0], k: 3)
        #expect(matches.map(\.id) == [10, 11, 12])
        #expect(abs(matches[0].score - 0.8) < 1e-6 && abs(matches[1].score - 0.6) < 1e-6)
        // More results than vectors: only what exists, never placeholder ids.
        #expect(try store.nearest(to: [1, 0, 0, 0], k: 100).count == 4)
    }

    @Test("removal, and a write/read round trip keeps ids and vectors")
    func removeAndPersist() throws {
        let directory = try SearchFixtures.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FaissVectorStore(kind: .flat, dimension: 4, expectedCount: 4)
        try store.add(Self.axes, ids: Self.ids)
        #expect(try store.remove(ids: [10, 99]) == 1)
        let path = (directory as NSString).appendingPathComponent("vectors.faiss")
        try store.write(to: path)
        let loaded = try FaissVectorStore(contentsOf: path, kind: .flat)
        #expect(loaded.count == 3)
        #expect(try loaded.nearest(to: [0, 0, 1, 0], k: 1).first?.id == 12)
        #expect(try loaded.nearest(to: [1, 0, 0, 0], k: 3).allSatisfy { $0.id != 10 })
    }

    @Test("HNSW and IVF find exact neighbours on a small set; HNSW cannot remove")
    func approximateKinds() throws {
        var random = SystemRandomNumberGenerator()
        let count = 2000
        let vectors = (0..<count * 8).map { _ in Float.random(in: -1...1, using: &random) }
        let ids = (0..<Int64(count)).map { $0 + 1 }
        for kind in [IndexKind.hnsw, .ivf] {
            let store = try FaissVectorStore(kind: kind, dimension: 8, expectedCount: count)
            try store.add(vectors, ids: ids)
            #expect(store.count == count)
            // A stored vector is its own best match.
            let probe = Array(vectors[80..<88])
            let exact = try FaissVectorStore(kind: .flat, dimension: 8, expectedCount: count)
            try exact.add(vectors, ids: ids)
            #expect(try store.nearest(to: probe, k: 1).first?.id == exact.nearest(to: probe, k: 1).first?.id)
        }
        let hnsw = try FaissVectorStore(kind: .hnsw, dimension: 8, expectedCount: 10)
        #expect(!hnsw.supportsRemoval)
        #expect(throws: SearchError.self) { try hnsw.remove(ids: [1]) }
    }

    @Test("malformed calls are errors, not crashes")
    func invalidCalls() throws {
        let store = try FaissVectorStore(kind: .flat, dimension: 4, expectedCount: 4)
        #expect(throws: SearchError.self) { try store.add([1, 2, 3], ids: [1]) }
        #expect(throws: SearchError.self) { try store.add(Self.axes, ids: [1]) }
        #expect(throws: SearchError.self) { try store.search([1, 0, 0, 0], k: 0) }
        #expect(throws: SearchError.self) { try FaissVectorStore(kind: .flat, dimension: 0, expectedCount: 1) }
        #expect(throws: SearchError.self) { try FaissVectorStore(contentsOf: "/nonexistent/vectors.faiss", kind: .flat) }
    }

    @Test("a sharded store scatters writes by id and gathers the best matches of every shard")
    func shardedStore() throws {
        let shards = try (0..<3).map { _ in try FaissVectorStore(kind: .flat, dimension: 4, expectedCount: 4) }
        let store = try ShardedVectorStore(shards: shards)
        try store.add(Self.axes, ids: Self.ids)
        #expect(store.count == 4)
        #expect(shards.map(\.count).max()! < 4)
        #expect(try store.nearest(to: [0.1, 0.2, 0.9, 0.3], k: 2).map(\.id) == [12, 13])
        #expect(try store.remove(ids: [12]) == 1)
        #expect(try store.nearest(to: [0, 0, 1, 0], k: 1).first?.id != 12)
        #expect(ShardedVectorStore.shard(forPath: "a/b.jpg", count: 7) == ShardedVectorStore.shard(forPath: "a/b.jpg", count: 7))
    }
}
