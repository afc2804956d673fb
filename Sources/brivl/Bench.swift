import ArgumentParser
import Benchmarks
import Foundation

extension BriVL {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks printing one JSON line per figure.",
            subcommands: [EngineBench.self, DataBench.self])
    }

    struct EngineBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "engine",
            abstract: "Swift-through-the-shim versus the same ATen work in one C++ call (ratio = Swift / C++).",
            discussion: "Workloads: \(EngineBenchmark.workloads.joined(separator: ", ")).")

        @OptionGroup var engine: EngineOptions

        @Option(help: "Timed rounds per workload; medians are reported.")
        var rounds: Int = 7

        @Option(parsing: .upToNextOption, help: "Run only these workloads.")
        var only: [String] = []

        func validate() throws {
            if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
            let unknown = only.filter { !EngineBenchmark.workloads.contains($0) }
            if !unknown.isEmpty {
                throw ValidationError(
                    "unknown workload(s) \(unknown.joined(separator: ", ")); choose from "
                        + EngineBenchmark.workloads.joined(separator: ", "))
            }
        }

        func run() throws {
            engine.apply()
            let benchmark = EngineBenchmark(
                configuration: .init(rounds: rounds, only: only.isEmpty ? nil : Set(only)))
            try benchmark.run { record in
                // Unbuffered, so each figure shows up as soon as it is measured.
                FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
            }
        }
    }

    struct DataBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data",
            abstract: "Data-pipeline throughput on one thread; image workloads run Pillow+NumPy side by side (ratio = ours / peer speed).",
            discussion: DataBenchmark.workloadDescriptions.map { "\($0.name): \($0.summary)." }.joined(separator: "\n"))

        @Option(help: "Timed rounds per workload; medians are reported.")
        var rounds: Int = 7

        @Option(parsing: .upToNextOption, help: "Run only these workloads.")
        var only: [String] = []

        @Option(help: "A folder of JPEG photos (default: \(DataBenchmark.defaultImagesDirectory), made by benchmarks/prepare_data_images.sh).")
        var images: String = DataBenchmark.defaultImagesDirectory

        @Option(help: "A Python with Pillow and NumPy for the peer (default: .cache/bench-venv/bin/python when present, else python3).")
        var python: String?

        @Option(help: "The peer's driver script (default: benchmarks/pillow_decode.py).")
        var peerScript: String?

        @Option(help: "Seconds one timed round of ours should last (the repeat count is calibrated to it).")
        var secondsPerRound: Double = 0.4

        func validate() throws {
            if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
            if !(secondsPerRound > 0) { throw ValidationError("--seconds-per-round must be positive") }
            let unknown = only.filter { !DataBenchmark.workloads.contains($0) }
            if !unknown.isEmpty {
                throw ValidationError(
                    "unknown workload(s) \(unknown.joined(separator: ", ")); choose from "
                        + DataBenchmark.workloads.joined(separator: ", "))
            }
        }

        func run() throws {
            let benchmark = DataBenchmark(
                configuration: .init(
                    rounds: rounds, only: only.isEmpty ? nil : Set(only), imagesDirectory: images,
                    python: python ?? DataBenchmark.defaultPython, peerScript: peerScript ?? DataBenchmark.defaultPeerScript,
                    secondsPerRound: secondsPerRound))
            do {
                try benchmark.run { record in
                    FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
                }
            } catch let error as BenchmarkError {
                throw ValidationError(error.description)
            }
        }
    }
}
