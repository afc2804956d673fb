import ArgumentParser
import Benchmarks
import Foundation

extension BriVL {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks printing one JSON line per figure.",
            subcommands: [EngineBench.self])
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
}
