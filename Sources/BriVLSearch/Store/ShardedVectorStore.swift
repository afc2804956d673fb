import Foundation

/// A ``VectorStore`` over several others, each holding part of the collection: writes go to the shard that owns
/// an id, a query is scattered to every shard concurrently and the answers are merged (gather), best first.
///
/// The shards here are any stores, in-process; the same scatter-gather works across processes or machines when
/// each shard is a client of a remote store. Ownership is a pure function of the id (default: the id modulo the
/// shard count), so every writer and reader agrees without coordination; ``shard(forPath:count:)`` is the matching
/// rule for assigning files to shards by path, stable across runs and machines.
public final class ShardedVectorStore: VectorStore, @unchecked Sendable {
    public let shards: [any VectorStore]
    private let owner: @Sendable (Int64) -> Int

    public var dimension: Int { shards[0].dimension }
    public var count: Int { shards.reduce(0) { $0 + $1.count } }
    public var supportsRemoval: Bool { shards.allSatisfy(\.supportsRemoval) }

    public init(shards: [any VectorStore], owner: (@Sendable (Int64) -> Int)? = nil) throws {
        guard let first = shards.first else { throw SearchError.invalidArgument("a sharded store needs at least one shard") }
        guard shards.allSatisfy({ $0.dimension == first.dimension }) else {
            throw SearchError.invalidArgument("shards have different dimensions")
        }
        self.shards = shards
        let count = shards.count
        self.owner = owner ?? { id in Int(UInt64(bitPattern: id) % UInt64(count)) }
    }

    /// The shard of a file: FNV-1a of its relative path, modulo the shard count.
    public static func shard(forPath path: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(Swift.max(1, count)))
    }

    public func add(_ vectors: [Float], ids: [Int64]) throws {
        var parts = [(values: [Float], ids: [Int64])](repeating: ([], []), count: shards.count)
        for (row, id) in ids.enumerated() {
            let shard = owner(id)
            parts[shard].values.append(contentsOf: vectors[row * dimension..<(row + 1) * dimension])
            parts[shard].ids.append(id)
        }
        for (shard, part) in zip(shards, parts) where !part.ids.isEmpty { try shard.add(part.values, ids: part.ids) }
    }

    @discardableResult
    public func remove(ids: [Int64]) throws -> Int {
        var parts = [[Int64]](repeating: [], count: shards.count)
        for id in ids { parts[owner(id)].append(id) }
        return try zip(shards, parts).reduce(0) { $0 + (try $1.0.remove(ids: $1.1)) }
    }

    public func search(_ queries: [Float], k: Int) throws -> [[VectorMatch]] {
        let answers = ShardAnswers(count: shards.count)
        DispatchQueue.concurrentPerform(iterations: shards.count) { shard in
            answers.set(shard, Result { try shards[shard].search(queries, k: k) })
        }
        let perShard = try answers.results.map { try $0!.get() }
        let queryCount = queries.count / dimension
        return (0..<queryCount).map { query in
            Array(perShard.flatMap { $0.indices.contains(query) ? $0[query] : [] }.sorted { $0.score > $1.score }.prefix(k))
        }
    }
}

/// The shards' answers, written from concurrent threads.
private final class ShardAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [Result<[[VectorMatch]], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ shard: Int, _ result: Result<[[VectorMatch]], any Error>) {
        lock.withLock { results[shard] = result }
    }
}
