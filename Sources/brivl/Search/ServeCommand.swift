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
                /healthz, /metrics, /. With a token (--token-file, BRIVL_TOKEN or --token) every route but \
                /healthz needs `Authorization: Bearer <token>`. An address other than loopback needs a token, or \
                --insecure-no-auth. SIGINT or SIGTERM stops the server gracefully.
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

        @Option(
            help: "Bearer token required on every route except /healthz (default: $BRIVL_TOKEN). Visible in the process list: prefer --token-file or BRIVL_TOKEN.")
        var token: String?

        @Option(help: "A file whose first line is the bearer token.")
        var tokenFile: String?

        @Flag(help: "Serve a non-loopback --host without a token: anyone on the network can search the photos.")
        var insecureNoAuth = false

        @Option(
            help: "A host name the server answers to besides loopback ones (repeatable): any other Host header is refused (DNS rebinding).")
        var allowedHost: [String] = []

        @Option(help: "Seconds before a connection with no request in progress is closed.")
        var idleTimeout: Double = Double(defaults.idleTimeout.components.seconds)

        @Option(help: "Most inputs per forward pass of the dynamic batcher.")
        var maxBatch: Int = defaults.batching.maxBatch

        @Option(help: "Milliseconds a request waits for others to join its batch.")
        var maxWaitMs: Double = Double(defaults.batching.maxWait.components.seconds) * 1000
            + Double(defaults.batching.maxWait.components.attoseconds) / 1e15

        @Option(help: "Largest request body, in MiB.")
        var maxBodyMb: Int = defaults.limits.maxBodyBytes >> 20

        @Option(help: "Largest image, in megapixels.")
        var maxMegapixels: Double = Double(defaults.limits.maxImagePixels) / 1_000_000

        /// Bounds beyond which an option is a typo, not a setting (and past which the conversions below would trap
        /// or wrap).
        static let largest = (waitMilliseconds: 60_000.0, bodyMegabytes: 4096, megapixels: 1_000.0)

        func validate() throws {
            // An empty token (an unset variable, `--token "$TOKEN"`) would otherwise turn authentication off.
            if let token, token.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(
                    "--token is empty (an unset variable?): give the token, or leave --token out to serve without one")
            }
            if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
            if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
            if maxBatch < 1 { throw ValidationError("--max-batch must be at least 1") }
            let limits = Self.largest
            if !(0...limits.waitMilliseconds).contains(maxWaitMs) {
                throw ValidationError("--max-wait-ms must be in 0...\(Int(limits.waitMilliseconds)), got \(maxWaitMs)")
            }
            if !(1...limits.bodyMegabytes).contains(maxBodyMb) {
                throw ValidationError("--max-body-mb must be in 1...\(limits.bodyMegabytes), got \(maxBodyMb)")
            }
            if !(idleTimeout >= 1 && idleTimeout <= 3600) {
                throw ValidationError("--idle-timeout must be in 1...3600 seconds, got \(idleTimeout)")
            }
            if !(maxMegapixels > 0 && maxMegapixels <= limits.megapixels) {
                throw ValidationError("--max-megapixels must be in (0, \(Int(limits.megapixels))], got \(maxMegapixels)")
            }
        }

        /// The token from --token, --token-file or BRIVL_TOKEN, in that order; nil when none is given.
        func resolvedToken() throws -> String? {
            if let token { return token }
            if let tokenFile {
                guard let contents = FileManager.default.contents(atPath: tokenFile) else {
                    throw ValidationError("cannot read --token-file \(tokenFile)")
                }
                let line = String(decoding: contents, as: UTF8.self).split(whereSeparator: \.isNewline).first
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard !line.isEmpty else { throw ValidationError("--token-file \(tokenFile) holds no token on its first line") }
                return line
            }
            return ProcessInfo.processInfo.environment["BRIVL_TOKEN"].flatMap {
                $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0
            }
        }

        func run() async throws {
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.token = try resolvedToken()
            configuration.allowsUnauthenticatedNetwork = insecureNoAuth
            configuration.allowedHosts = allowedHost
            configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            configuration.batching = BatchingConfiguration(maxBatch: maxBatch, maxWait: .microseconds(Int64(maxWaitMs * 1000)))
            configuration.limits.maxBodyBytes = maxBodyMb << 20
            configuration.limits.maxImagePixels = Int(maxMegapixels * 1_000_000)
            configuration.limits.maxRequestPixels = Swift.max(configuration.limits.maxRequestPixels, configuration.limits.maxImagePixels)
            do { try configuration.validate() } catch let error as ServerConfigurationError {
                throw ValidationError(error.description)
            }

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
