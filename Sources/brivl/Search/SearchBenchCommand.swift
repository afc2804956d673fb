import ArgumentParser
import Benchmarks
import BriVLInference
import BriVLSearch
import Foundation

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
