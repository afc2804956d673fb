import ArgumentParser
import BriVLTraining
import Foundation
import Torch

/// `brivl train`'s data-parallel options.
struct DistributedOptions: ParsableArguments {
    @Option(help: "Start this many ranks on this machine (each with cores/N threads unless --threads is given).")
    var nproc: Int = 1

    @Option(help: "Rendezvous port for --nproc (default: a free one).")
    var masterPort: Int?

    @Option(
        help: ArgumentHelp(
            "Where each rank's rows come from: shards (each rank reads its share) or global (every rank reads the global batch and keeps its rows; reproduces a single-process run).",
            valueName: "shards|global"))
    var rankData: String = DataParallelism.RankData.shards.rawValue

    @Flag(inversion: .prefixedNo, help: "ZeRO-1: shard the optimizer state across ranks.")
    var zero = true

    @Option(help: "Seconds a rank waits at a rendezvous or collective before giving up.")
    var distributedTimeout: Double = 600

    func validate() throws {
        if nproc < 1 { throw ValidationError("--nproc must be at least 1, got \(nproc)") }
        if DataParallelism.RankData(rawValue: rankData) == nil {
            throw ValidationError("--rank-data must be shards or global, got \(rankData)")
        }
        if distributedTimeout <= 0 { throw ValidationError("--distributed-timeout must be positive") }
        if let masterPort, !(1...65535).contains(masterPort) {
            throw ValidationError("--master-port must be a TCP port, got \(masterPort)")
        }
    }

    /// Re-runs this command as `nproc` ranks on this machine and waits for them.
    func launchLocally() throws {
        FileHandle.standardError.write(Data("starting \(nproc) ranks on this machine (Gloo on loopback)\n".utf8))
        // The launcher passes Ctrl-C on to every rank; the ranks agree to stop after the same step.
        try LocalLauncher(arguments: Array(CommandLine.arguments.dropFirst()), processCount: nproc, port: masterPort).run()
    }

    /// The group this process is a rank of, joined now; nil for a single process.
    func parallelism(for launch: LaunchEnvironment?) throws -> DataParallelism? {
        guard let launch, launch.worldSize > 1 else { return nil }
        let group = try launch.joinGroup(backend: .gloo, timeout: distributedTimeout)
        return DataParallelism(
            group: group, rankData: DataParallelism.RankData(rawValue: rankData) ?? .shards, shardOptimizerState: zero)
    }

    func describe(_ parallelism: DataParallelism, trainer: Trainer) -> String {
        let batch = trainer.configuration.data.batchSize
        var text = "data parallel: \(parallelism.worldSize) ranks × \(batch / parallelism.worldSize) pairs "
            + "(global batch \(batch)), \(parallelism.rankData.rawValue) data, ZeRO-1 "
            + (parallelism.shardOptimizerState ? "on" : "off")
        text += ", \(Engine.threadCount) thread(s) per rank"
        return text
    }

    /// Errors of a rank say which rank they come from.
    static func labelled(_ error: any Error, _ parallelism: DataParallelism?) -> any Error {
        guard let parallelism else { return error }
        return RankError(rank: parallelism.rank, worldSize: parallelism.worldSize, underlying: error)
    }
}

struct RankError: Error, CustomStringConvertible {
    var rank: Int
    var worldSize: Int
    var underlying: any Error
    var description: String { "rank \(rank) of \(worldSize): \(underlying)" }
}
