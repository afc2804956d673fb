import ArgumentParser
import BriVLInference
import BriVLSearch
import BriVLServer
import Foundation
import Hummingbird

extension BriVL {
    struct ServeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve an index over HTTP: JSON API, Prometheus metrics and a search page at /.",
            discussion: """
                Routes: POST /v1/embed/text, /v1/embed/image, /v1/search, /v1/classify; GET /v1/thumbnail, \
                /healthz, /metrics, /. With a token (--token or BRIVL_TOKEN) every route but /healthz needs \
                `Authorization: Bearer <token>`. SIGINT or SIGTERM stops the server gracefully.
                """)

        @OptionGroup var engine: EngineOptions

        @Option(help: "The run folder or checkpoint the index was built with.")
        var checkpoint: String

        @Option(help: "The index folder.")
        var index: String = SearchDefaults.indexPath

        /// The library's settings, where every default below comes from.
        static let defaults = ServerConfiguration()

        @Option(help: "Address to bind (loopback by default; 0.0.0.0 exposes the service).")
        var host: String = defaults.host

        @Option(help: "Port (0: any free port).")
        var port: Int = defaults.port

        @Option(help: "Bearer token required on every route except /healthz (default: $BRIVL_TOKEN).")
        var token: String?

        @Option(help: "Most inputs per forward pass of the dynamic batcher.")
        var maxBatch: Int = defaults.batching.maxBatch

        @Option(help: "Milliseconds a request waits for others to join its batch.")
        var maxWaitMs: Double = Double(defaults.batching.maxWait.components.seconds) * 1000
            + Double(defaults.batching.maxWait.components.attoseconds) / 1e15

        @Option(help: "Largest request body, in MiB.")
        var maxBodyMb: Int = defaults.limits.maxBodyBytes >> 20

        @Option(help: "Largest image, in megapixels.")
        var maxMegapixels: Double = Double(defaults.limits.maxImagePixels) / 1_000_000

        func validate() throws {
            // An empty token (an unset variable, `--token "$TOKEN"`) would otherwise turn authentication off.
            if let token, token.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(
                    "--token is empty (an unset variable?): give the token, or leave --token out to serve without one")
            }
            if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
            if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1") }
            if !(maxWaitMs >= 0) { throw ValidationError("--max-wait-ms must be non-negative") }
            if maxBodyMb < 1 { throw ValidationError("--max-body-mb must be at least 1") }
            if !(maxMegapixels > 0) { throw ValidationError("--max-megapixels must be positive") }
        }

        func run() async throws {
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.token = token ?? ProcessInfo.processInfo.environment["BRIVL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            configuration.batching = BatchingConfiguration(maxBatch: maxBatch, maxWait: .microseconds(Int64(maxWaitMs * 1000)))
            configuration.limits.maxBodyBytes = maxBodyMb << 20
            configuration.limits.maxImagePixels = Int(maxMegapixels * 1_000_000)

            let trained = try engine.loadTrainedModel(checkpoint)
            let searchIndex = try SearchIndex(path: index)
            let service = try SearchService(
                index: searchIndex, embedder: ModelEmbedder(trained, maxPixels: configuration.limits.maxImagePixels),
                configuration: configuration)
            let tokenNote = configuration.token == nil ? "no token" : "bearer token required"
            let application = buildApplication(service: service, configuration: configuration) { port in
                FileHandle.standardError.write(
                    Data("serving \(searchIndex.count) images on http://\(host):\(port)/ (\(tokenNote))\n".utf8))
            }
            try await application.runService()
            service.shutdown()
        }
    }
}
