import BriVLSearch
import Foundation
import Imaging

/// Vector search on random unit vectors, uniform or clustered: per-query latency (p50, p99; one query per call, as a server answers) and
/// recall@10 against exact search, for the exact index and the approximate ones at increasing search depth. The
/// same index files and queries are then searched from Python through FAISS's own binding, so the two columns
/// differ only by the binding (ratio = ours / peer latency).
public struct SearchBenchmark {
    public struct Configuration: Sendable {
        public var sizes: [Int] = [100_000]
        public var dimensions: [Int] = [256, 512]
        public var kinds: [IndexKind] = [.flat, .hnsw, .ivf]
        public var queries = 1000
        /// Exact search over millions of vectors is slow per query; it is timed on this many queries.
        public var exactTimedQueries = 200
        public var k = 10
        public var hnswSearchDepths = [16, 32, 64, 128, 256]
        public var ivfProbes = [4, 8, 16, 32, 64, 128, 256]
        /// Build settings of the approximate indexes (IVF cells default to 4·√n).
        public var tuning = IndexKind.Tuning()
        /// Files shared with the Python peer.
        public var workDirectory = ".cache/bench-search"
        /// nil: no peer.
        public var python: String? = "/usr/bin/python3"
        public var peerScript = "benchmarks/faiss_search.py"
        public var threads = 1
        public var distribution = Distribution.uniform

        public init() {}
    }

    /// How the random vectors are spread on the sphere.
    public enum Distribution: String, Sendable, CaseIterable {
        /// Independent uniform directions: no structure at all, the worst case for any approximate index (every
        /// cell or graph region is as likely to hold a neighbour).
        case uniform
        /// One cluster per 1,000 vectors: each vector is a random centre plus noise of the same norm, so members of
        /// a cluster have cosines around 0.5, like embeddings of similar photos. Queries come from the same centres.
        case clustered
    }

    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func run(emit: (BenchmarkRecord) -> Void) throws {
        FaissVectorStore.setThreadCount(configuration.threads)
        try FileManager.default.createDirectory(atPath: configuration.workDirectory, withIntermediateDirectories: true)
        for dimension in configuration.dimensions {
            for size in configuration.sizes {
                try run(size: size, dimension: dimension, emit: emit)
            }
        }
    }

    private func run(size: Int, dimension: Int, emit: (BenchmarkRecord) -> Void) throws {
        var random = SeededRandom(seed: UInt64(size * 1000 + dimension))
        let base: [Float]
        let queries: [Float]
        switch configuration.distribution {
        case .uniform:
            base = Self.unitVectors(count: size, dimension: dimension, random: &random)
            queries = Self.unitVectors(count: configuration.queries, dimension: dimension, random: &random)
        case .clustered:
            let centres = Self.unitVectors(count: Swift.max(10, size / 1000), dimension: dimension, random: &random)
            base = Self.clustered(count: size, centres: centres, dimension: dimension, random: &random)
            queries = Self.clustered(count: configuration.queries, centres: centres, dimension: dimension, random: &random)
        }
        let ids = (0..<Int64(size)).map { $0 }
        let prefix = "\(configuration.workDirectory)/\(configuration.distribution.rawValue)-n\(size)-d\(dimension)"
        try Self.write(queries, to: prefix + "-queries.f32")

        // Exact answers for recall, from one batched search on every core.
        FaissVectorStore.setThreadCount(ProcessInfo.processInfo.activeProcessorCount)
        let exact = try FaissVectorStore(kind: .flat, dimension: dimension, expectedCount: size)
        try exact.add(base, ids: ids)
        let truth = try exact.search(queries, k: configuration.k).map { $0.map(\.id) }
        FaissVectorStore.setThreadCount(configuration.threads)

        var peerRuns: [(key: String, index: String, parameter: String, value: Int)] = []
        var ours: [String: Double] = [:]
        for kind in configuration.kinds {
            let store: FaissVectorStore
            var buildSeconds = 0.0
            if kind == .flat {
                store = exact
            } else {
                // Builds use every core; queries are then timed on `threads`.
                FaissVectorStore.setThreadCount(ProcessInfo.processInfo.activeProcessorCount)
                defer { FaissVectorStore.setThreadCount(configuration.threads) }
                let start = Date()
                store = try FaissVectorStore(
                    kind: kind, dimension: dimension, expectedCount: size, tuning: configuration.tuning)
                if kind == .ivf {
                    // k-means on a sample of 64 vectors per cell (enough for stable centroids, FAISS's advice is 30–256).
                    let cells = configuration.tuning.cells(count: size)
                    try store.train(Array(base.prefix(Swift.min(size, cells * 64) * dimension)))
                }
                try store.add(base, ids: ids)
                buildSeconds = Date().timeIntervalSince(start)
            }
            let indexPath = "\(prefix)-\(kind.rawValue).faiss"
            try store.write(to: indexPath)
            let settings: [(String, Int)] =
                switch kind {
                case .flat: [("none", 0)]
                case .hnsw: configuration.hnswSearchDepths.map { ("efSearch", $0) }
                case .ivf: configuration.ivfProbes.map { ("nprobe", $0) }
                }
            var reached = false
            for (parameter, value) in settings {
                var tuning = configuration.tuning
                if parameter == "efSearch" { tuning.hnswSearchDepth = value }
                if parameter == "nprobe" { tuning.ivfProbes = value }
                try store.applySearchTuning(tuning)
                let timed = kind == .flat ? Swift.min(configuration.exactTimedQueries, configuration.queries) : configuration.queries
                var latencies: [Double] = []
                var found: [[Int64]] = []
                for query in 0..<configuration.queries {
                    let vector = Array(queries[query * dimension..<(query + 1) * dimension])
                    let start = DispatchTime.now().uptimeNanoseconds
                    let matches = try store.search(vector, k: configuration.k)[0]
                    if query < timed { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
                    found.append(matches.map(\.id))
                }
                let recall = Self.recall(found, truth)
                let key = "\(kind.rawValue)-\(parameter)-\(value)"
                ours[key] = Self.percentile(latencies, 0.5)
                emit(
                    BenchmarkRecord([
                        ("benchmark", "search"), ("side", "brivl"), ("distribution", .text(configuration.distribution.rawValue)),
                        ("vectors", .integer(size)),
                        ("dimension", .integer(dimension)), ("index", .text(kind.rawValue)),
                        ("parameter", .text(parameter)), ("value", .integer(value)),
                        ("p50_ms", .number(Self.percentile(latencies, 0.5))),
                        ("p99_ms", .number(Self.percentile(latencies, 0.99))), ("recall_at_10", .number(recall)),
                        ("build_s", .number(buildSeconds)), ("threads", .integer(configuration.threads)),
                    ]))
                peerRuns.append((key, indexPath, parameter, value))
                // Deeper settings only cost time once the target recall is met with margin.
                if recall >= 0.99 && reached { break }
                if recall >= 0.95 { reached = true }
            }
        }
        guard let python = configuration.python else { return }
        try runPeer(
            python: python, queries: prefix + "-queries.f32", dimension: dimension, size: size, runs: peerRuns,
            ours: ours, emit: emit)
    }

    private func runPeer(
        python: String, queries: String, dimension: Int, size: Int,
        runs: [(key: String, index: String, parameter: String, value: Int)], ours: [String: Double],
        emit: (BenchmarkRecord) -> Void
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        var arguments = [
            configuration.peerScript, "--queries", queries, "--dimension", String(dimension), "--k",
            String(configuration.k), "--threads", String(configuration.threads), "--exact-timed",
            String(configuration.exactTimedQueries),
        ]
        for run in runs { arguments += ["--run", "\(run.key)=\(run.index):\(run.parameter):\(run.value)"] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            emit(BenchmarkRecord([("benchmark", "search"), ("side", "faiss-python"), ("error", .text("peer exited with \(process.terminationStatus)"))]))
            return
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let key = object["key"] as? String, let p50 = object["p50_ms"] as? Double,
                let p99 = object["p99_ms"] as? Double, let recall = object["recall_at_10"] as? Double
            else { continue }
            let parts = key.split(separator: "-")
            emit(
                BenchmarkRecord([
                    ("benchmark", "search"), ("side", "faiss-python"),
                    ("distribution", .text(configuration.distribution.rawValue)), ("vectors", .integer(size)),
                    ("dimension", .integer(dimension)), ("index", .text(String(parts[0]))),
                    ("parameter", .text(String(parts[1]))), ("value", .integer(Int(parts[2]) ?? 0)),
                    ("p50_ms", .number(p50)), ("p99_ms", .number(p99)), ("recall_at_10", .number(recall)),
                    ("ratio_p50", .number((ours[key] ?? .nan) / p50)), ("threads", .integer(configuration.threads)),
                ]))
        }
    }

    static func unitVectors(count: Int, dimension: Int, random: inout SeededRandom) -> [Float] {
        var values = [Float](repeating: 0, count: count * dimension)
        for row in 0..<count {
            var norm: Float = 0
            for column in 0..<dimension {
                let value = Float(Double(random.next() >> 11) / Double(1 << 53) * 2 - 1)
                values[row * dimension + column] = value
                norm += value * value
            }
            let scale = 1 / norm.squareRoot()
            for column in 0..<dimension { values[row * dimension + column] *= scale }
        }
        return values
    }

    /// Unit vectors each a random centre plus a random unit vector, normalised.
    static func clustered(count: Int, centres: [Float], dimension: Int, random: inout SeededRandom) -> [Float] {
        let noise = unitVectors(count: count, dimension: dimension, random: &random)
        let centreCount = centres.count / dimension
        var values = [Float](repeating: 0, count: count * dimension)
        for row in 0..<count {
            let centre = Int(random.next() % UInt64(centreCount))
            var norm: Float = 0
            for column in 0..<dimension {
                let value = centres[centre * dimension + column] + noise[row * dimension + column]
                values[row * dimension + column] = value
                norm += value * value
            }
            let scale = 1 / norm.squareRoot()
            for column in 0..<dimension { values[row * dimension + column] *= scale }
        }
        return values
    }

    /// Raw little-endian float32, row-major: what the peer script reads with `numpy.fromfile`.
    static func write(_ values: [Float], to path: String) throws {
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    static func recall(_ found: [[Int64]], _ truth: [[Int64]]) -> Double {
        var hits = 0
        var total = 0
        for (answer, expected) in zip(found, truth) {
            hits += Set(answer).intersection(expected).count
            total += expected.count
        }
        return total == 0 ? .nan : Double(hits) / Double(total)
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
    }
}
