import ArgumentParser
import Benchmarks
import BriVLInference
import BriVLSearch
import BriVLServer
import Foundation
import Hummingbird

extension BriVL {
    struct SearchBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Vector search latency and recall (ours and FAISS from Python), and HTTP text-search load with wrk.",
            discussion: """
                Vector part: random unit vectors of each --sizes × --dimensions; exact, HNSW and IVF at increasing \
                search depth; p50/p99 per single query and recall@10 against exact search; then the same index files \
                searched through FAISS's Python binding (benchmarks/faiss_search.py, ratio = ours / peer p50).
                HTTP part (with --http-index and --checkpoint): `brivl serve` in-process on a free loopback port and \
                `wrk` posting one text query for --duration seconds.
                """)

        @OptionGroup var engine: EngineOptions

        @Option(parsing: .upToNextOption, help: "Collection sizes.")
        var sizes: [Int] = [100_000]

        @Option(parsing: .upToNextOption, help: "Vector dimensions.")
        var dimensions: [Int] = [256, 512]

        @Option(parsing: .upToNextOption, help: "Index kinds: flat, hnsw, ivf.")
        var kinds: [String] = ["flat", "hnsw", "ivf"]

        @Option(help: "Queries per setting.")
        var queries: Int = 1000

        @Option(help: "Vectors: uniform (no structure, the worst case) or clustered (like embeddings of a photo collection).")
        var distribution: String = "uniform"

        @Option(help: "IVF cells (default 4·√n).")
        var ivfCells: Int?

        @Option(help: "HNSW build depth (efConstruction).")
        var hnswBuildDepth: Int = 80

        @Option(help: "FAISS threads for queries (1: per-query latency as a server thread sees it); builds use every core.")
        var threads: Int = 1

        @Option(help: "Python with FAISS for the peer; `none` skips it.")
        var python: String = "/usr/bin/python3"

        @Flag(help: "Skip the vector part.")
        var skipVectors = false

        @Option(help: "An index to serve for the HTTP part.")
        var httpIndex: String?

        @Option(help: "The checkpoint the HTTP index was built with.")
        var checkpoint: String?

        @Option(help: "Seconds of HTTP load.")
        var duration: Int = 10

        @Option(help: "Concurrent HTTP connections.")
        var connections: Int = 8

        @Option(help: "The text query posted under load.")
        var text: String = "一件红色的连衣裙"

        func validate() throws {
            if sizes.contains(where: { $0 < 1000 }) { throw ValidationError("--sizes must be at least 1000") }
            if dimensions.contains(where: { $0 < 1 }) { throw ValidationError("--dimensions must be positive") }
            if kinds.contains(where: { IndexKind(rawValue: $0) == nil }) { throw ValidationError("--kinds: flat, hnsw, ivf") }
            if !kinds.contains("flat") { throw ValidationError("--kinds must include flat (the reference for recall)") }
            if SearchBenchmark.Distribution(rawValue: distribution) == nil {
                throw ValidationError("--distribution must be uniform or clustered")
            }
            if queries < 10 { throw ValidationError("--queries must be at least 10") }
            if (httpIndex == nil) != (checkpoint == nil) {
                throw ValidationError("the HTTP part needs both --http-index and --checkpoint")
            }
            if !(1...600).contains(duration) { throw ValidationError("--duration must be in 1...600 seconds") }
        }

        func run() async throws {
            if !skipVectors {
                var configuration = SearchBenchmark.Configuration()
                configuration.sizes = sizes
                configuration.dimensions = dimensions
                // The exact index first: the others' recall is measured against it.
                configuration.kinds = ["flat"] .compactMap(IndexKind.init) + kinds.filter { $0 != "flat" }.compactMap(IndexKind.init)
                configuration.queries = queries
                configuration.threads = threads
                configuration.tuning.ivfCells = ivfCells
                configuration.distribution = SearchBenchmark.Distribution(rawValue: distribution) ?? .uniform
                configuration.tuning.hnswBuildDepth = hnswBuildDepth
                configuration.python = python == "none" ? nil : python
                try SearchBenchmark(configuration: configuration).run { record in
                    FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
                }
            }
            if let httpIndex, let checkpoint {
                let record = try await HTTPLoad(
                    trained: engine.loadTrainedModel(checkpoint), index: httpIndex, duration: duration,
                    connections: connections, text: text
                ).run()
                FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
            }
        }
    }
}

/// `wrk` against an in-process server on a free loopback port: throughput, latency percentiles, errors.
struct HTTPLoad {
    let trained: TrainedModel
    let index: String
    let duration: Int
    let connections: Int
    let text: String

    func run() async throws -> BenchmarkRecord {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let searchIndex = try SearchIndex(path: index)
        let service = try SearchService(index: searchIndex, embedder: ModelEmbedder(trained), configuration: configuration)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = buildApplication(service: service, configuration: configuration) { port in portSink.yield(port) }
        let server = Task { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ValidationError("the server did not start") }
        let output: String
        do {
            output = try await load(port: port)
        } catch {
            server.cancel()
            service.shutdown()
            throw error
        }
        // The server first, so that no request reaches a stopped model thread; then the model thread.
        server.cancel()
        _ = await server.result
        service.shutdown()
        let parsed = WRKOutput(output)
        return BenchmarkRecord([
            ("benchmark", "http-search"), ("images", .integer(searchIndex.count)), ("connections", .integer(connections)),
            ("duration_s", .integer(duration)), ("requests_per_s", .number(parsed.requestsPerSecond ?? .nan)),
            ("p50_ms", .number(parsed.percentile["50%"] ?? .nan)), ("p99_ms", .number(parsed.percentile["99%"] ?? .nan)),
            ("requests", .integer(parsed.requests ?? 0)), ("errors", .integer(parsed.errors)),
        ])
    }

    /// wrk posting the text query to the search route for `duration` seconds; its report.
    private func load(port: Int) async throws -> String {

        let script = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-wrk-\(UUID().uuidString).lua")
        let body = String(decoding: try JSONEncoder().encode(["text": text]), as: UTF8.self)
        let lua = """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.body = [[\(body)]]
            """
        try lua.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        return try Self.runWRK([
            "-t", "2", "-c", String(connections), "-d", "\(duration)s", "--latency", "--timeout", "10s", "-s", script.path,
            "http://127.0.0.1:\(port)/v1/search",
        ])
    }

    static func runWRK(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["wrk"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("wrk failed (is it installed? apt-get install wrk)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The figures of wrk's `--latency` report.
struct WRKOutput {
    var requestsPerSecond: Double?
    var requests: Int?
    /// Non-2xx answers plus socket errors.
    var errors = 0
    /// "50%" … "99%" → milliseconds.
    var percentile: [String: Double] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if line.hasPrefix("Requests/sec:"), fields.count >= 2 { requestsPerSecond = Double(fields[1]) }
            if fields.count >= 2, fields[0].hasSuffix("%"), let value = Self.milliseconds(fields[1]) { percentile[fields[0]] = value }
            if line.contains("requests in"), let count = Int(fields[0]) { requests = count }
            if line.hasPrefix("Non-2xx or 3xx responses:"), let count = Int(fields.last ?? "") { errors += count }
            if line.hasPrefix("Socket errors:") {
                errors += fields.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(0, +)
            }
        }
    }

    /// "1.23ms", "850.00us", "1.02s" → milliseconds.
    static func milliseconds(_ text: String) -> Double? {
        for (suffix, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}
