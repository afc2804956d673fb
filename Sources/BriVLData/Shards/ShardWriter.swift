import Foundation

/// Writes samples into numbered WebDataset shards (`<prefix>-000000.tar`, …), starting a new shard every
/// `samplesPerShard` samples or `maxShardBytes` bytes, and an index (`<prefix>-index.json`) listing every shard with
/// its sample count when finished.
///
/// Each shard is written under a temporary name and renamed when complete, so a crash never leaves a truncated shard
/// under a final name.
public final class ShardWriter {
    public struct Configuration: Sendable {
        public var directory: String
        public var prefix: String
        public var samplesPerShard: Int
        public var maxShardBytes: Int

        public init(directory: String, prefix: String = "shard", samplesPerShard: Int = 1000, maxShardBytes: Int = 1 << 30) {
            self.directory = directory
            self.prefix = prefix
            self.samplesPerShard = samplesPerShard
            self.maxShardBytes = maxShardBytes
        }
    }

    public let configuration: Configuration
    private var current: TarWriter? = nil
    private var currentName = ""
    private var currentSamples = 0
    private var currentKeys = Set<String>()
    public private(set) var shards: [ShardIndex.Shard] = []
    private var finished = false

    public init(_ configuration: Configuration) throws {
        guard configuration.samplesPerShard > 0, configuration.maxShardBytes > 0 else {
            throw DataError.invalidConfiguration("samples per shard and shard size must be positive")
        }
        guard !configuration.prefix.isEmpty, !configuration.prefix.contains("/") else {
            throw DataError.invalidConfiguration("shard prefix must be a plain name, got '\(configuration.prefix)'")
        }
        do {
            try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(file: configuration.directory, message: "cannot create the directory: \(error)")
        }
        self.configuration = configuration
    }

    /// Total samples written.
    public var sampleCount: Int { shards.reduce(0) { $0 + $1.samples } + currentSamples }

    public func write(_ sample: Sample) throws {
        precondition(!finished, "write after finish")
        guard !sample.key.isEmpty, !sample.key.contains("."), !sample.files.isEmpty else {
            throw DataError.invalidSample(key: sample.key, reason: "a sample needs a key without dots and at least one file")
        }
        if let writer = current,
            currentSamples >= configuration.samplesPerShard || writer.offset >= configuration.maxShardBytes
        {
            try closeCurrent()
        }
        if current == nil { try openNext() }
        guard currentKeys.insert(sample.key).inserted else {
            throw DataError.invalidSample(key: sample.key, reason: "key appears twice in shard \(currentName)")
        }
        for ext in sample.files.keys.sorted() {
            try current!.append(TarEntry(name: "\(sample.key).\(ext)", data: sample.files[ext]!))
        }
        currentSamples += 1
    }

    /// Closes the last shard and writes the index. Returns the index.
    @discardableResult
    public func finish() throws -> ShardIndex {
        if !finished {
            if current != nil { try closeCurrent() }
            finished = true
        }
        let index = ShardIndex(shards: shards)
        try index.write(to: ShardIndex.path(directory: configuration.directory, prefix: configuration.prefix))
        return index
    }

    private func openNext() throws {
        currentName = String(format: "%@-%06d.tar", configuration.prefix, shards.count)
        current = try TarWriter(path: temporaryPath(currentName))
        currentSamples = 0
        currentKeys.removeAll(keepingCapacity: true)
    }

    private func closeCurrent() throws {
        guard let writer = current else { return }
        try writer.finish()
        let final = (configuration.directory as NSString).appendingPathComponent(currentName)
        guard rename(temporaryPath(currentName), final) == 0 else {
            throw DataError.io(file: final, message: "cannot move the finished shard into place")
        }
        shards.append(ShardIndex.Shard(name: currentName, samples: currentSamples, bytes: writer.offset))
        current = nil
    }

    private func temporaryPath(_ name: String) -> String {
        (configuration.directory as NSString).appendingPathComponent(".\(name).partial")
    }
}

/// The list of shards in a directory with their sample counts, stored as `<prefix>-index.json`.
public struct ShardIndex: Codable, Sendable, Equatable {
    public struct Shard: Codable, Sendable, Equatable {
        public var name: String
        public var samples: Int
        public var bytes: Int
    }

    public var shards: [Shard]

    public var sampleCount: Int { shards.reduce(0) { $0 + $1.samples } }

    public init(shards: [Shard]) {
        self.shards = shards
    }

    public static func path(directory: String, prefix: String) -> String {
        (directory as NSString).appendingPathComponent("\(prefix)-index.json")
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError.io(file: path, message: "cannot write the shard index: \(error)")
        }
    }

    public static func read(from path: String) throws -> ShardIndex {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the shard index")
        }
        do {
            return try JSONDecoder().decode(ShardIndex.self, from: data)
        } catch {
            throw DataError.invalidRecord(file: path, line: 1, reason: "not a shard index: \(error)")
        }
    }

    /// Finds the shards of a directory: from its index when there is exactly one `*-index.json`, else every `*.tar`
    /// in name order (counts then unknown, recorded as -1).
    public static func discover(in directory: String) throws -> (index: ShardIndex, paths: [String]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw DataError.io(file: directory, message: "cannot list the directory: \(error)")
        }
        let indexes = names.filter { $0.hasSuffix("-index.json") }
        let index: ShardIndex
        if indexes.count == 1 {
            index = try read(from: (directory as NSString).appendingPathComponent(indexes[0]))
        } else {
            index = ShardIndex(shards: names.filter { $0.hasSuffix(".tar") }.map { Shard(name: $0, samples: -1, bytes: -1) })
        }
        return (index, index.shards.map { (directory as NSString).appendingPathComponent($0.name) })
    }
}
