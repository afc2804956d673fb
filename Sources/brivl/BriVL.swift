import ArgumentParser
import Foundation
import Torch

@main
struct BriVL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brivl",
        abstract: "Chinese–English image–text pretraining (BriVL / WenLan 2.0) on libtorch.",
        subcommands: [Doctor.self, Shard.self, Clean.self, DataCommands.self, Train.self, Bench.self])
}

/// Options every engine-using command shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "CPU threads for the engine's kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the options to the engine.
    func apply() {
        Engine.threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
    }
}
