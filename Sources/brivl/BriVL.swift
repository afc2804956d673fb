import ArgumentParser
import BriVLInference
import Foundation
import Torch

@main
struct BriVL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brivl",
        abstract: "Chinese–English image–text pretraining (BriVL / WenLan 2.0) on libtorch.",
        subcommands: [
            Doctor.self, Shard.self, Clean.self, DataCommands.self, Train.self, Eval.self, Explain.self,
            ImportCommand.self, IndexCommand.self, SearchCommand.self, ServeCommand.self, Bench.self,
        ])

    static func main() async {
        ThreadWaiting.preferPassive()
        await main(nil)
    }
}

/// Idle OpenMP threads (the engine's and OpenBLAS's) spin by default. When anything else wants the same cores — the
/// data loader's decode threads, or other work on the machine — the spinning threads take the time the work needs:
/// a tiny-preset training step on 2 busy cores measured about 5 s with spinning and 1 s with passive waiting.
/// libgomp reads OMP_WAIT_POLICY when it is loaded, before `main`, so the setting takes effect by setting it and
/// executing the program again. A policy the user set is left alone.
enum ThreadWaiting {
    static func preferPassive() {
        guard getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on with the default policy.
    }
}

/// Options every engine-using command shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "CPU threads for the engine's kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the options to the engine. `processes` on this machine share its cores by default.
    func apply(sharingCoresWith processes: Int = 1) {
        Engine.threadCount = threads ?? Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / Swift.max(1, processes))
    }
}

extension EngineOptions {
    /// Applies the options and loads a trained model (a run folder or one step folder), saying on standard error
    /// which checkpoint was loaded.
    func loadTrainedModel(_ path: String) throws -> TrainedModel {
        apply()
        let trained = try TrainedModel(path: path)
        for damaged in (trained.source as? RunCheckpoint)?.damagedCheckpoints ?? [] {
            FileHandle.standardError.write(Data("warning: \(damaged); using an older one\n".utf8))
        }
        FileHandle.standardError.write(
            Data("model \(trained.model.configuration.name) from \(trained.source.identity)\n".utf8))
        return trained
    }
}
