import BriVLInference
import BriVLSearch
import BriVLServer
import Foundation
import Hummingbird

/// `wrk` against an in-process server on a free loopback port: throughput, latency percentiles, errors.
public struct HTTPLoad {
    let trained: TrainedModel
    let index: String
    let duration: Int
    let connections: Int
    let text: String

    /// - Parameters:
    ///   - index: the index folder to serve
    ///   - duration: seconds of load
    ///   - text: the query every request posts
    public init(trained: TrainedModel, index: String, duration: Int, connections: Int, text: String) {
        self.trained = trained
        self.index = index
        self.duration = duration
        self.connections = connections
        self.text = text
    }

    public func run() async throws -> BenchmarkRecord {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let searchIndex = try SearchIndex(path: index)
        let service = try SearchService(index: searchIndex, embedder: ModelEmbedder(trained), configuration: configuration)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let application = buildApplication(service: service, configuration: configuration) { port in portSink.yield(port) }
        let server = Task { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw BenchmarkError("the server did not start") }
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
        guard process.terminationStatus == 0 else { throw BenchmarkError("wrk failed (is it installed? apt-get install wrk)") }
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
