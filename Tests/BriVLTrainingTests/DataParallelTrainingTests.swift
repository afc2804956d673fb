import BriVL
import BriVLInference
import Foundation
import ModelTestSupport
import Testing
import Torch

@testable import BriVLTraining

/// `brivl train` as separate processes over Gloo on loopback: the same losses as one process for the same global
/// batch, ZeRO-1 on and off, resuming under another world size, and a killed rank.
@Suite("Data-parallel training processes", .serialized)
struct DataParallelTrainingTests {
    static let steps = 12

    /// The fixture corpus and model without MLM (masks are drawn per rank) and without dropout (its streams are
    /// per rank), four pairs per global batch, a checkpoint every two steps (all kept), validation every three.
    static func writeConfiguration(root: String, chunk: Int? = nil) throws -> String {
        var configuration = try TrainingFixtures.configuration(root: root, steps: steps, dropout: 0)
        configuration.objective.maskedLanguageModelWeight = 0
        configuration.objective.gradientCacheChunk = chunk
        configuration.run.keepCheckpoints = steps
        let path = (root as NSString).appendingPathComponent(chunk == nil ? "training.json" : "training-chunked.json")
        try configuration.encodedJSON().write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs brivl to the end; returns its exit status and standard error.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, errors: String) {
        let process = try start(arguments, environment: environment)
        let errors = process.standardError as! Pipe
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try #require(BuiltTool.brivl, "the brivl executable is not built beside the tests")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = Pipe()
        try process.run()
        return process
    }

    @Test("2 ranks reproduce the single-process losses for the same global batch; ZeRO-1 on and off agree; resume on 1 rank")
    func twoRanksMatchOneProcess() throws {
        let root = try TrainingFixtures.temporaryDirectory("ddp")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = try Self.writeConfiguration(root: root)
        // One process, batch-norm statistics per half batch, as each of two ranks computes them.
        let chunked = try Self.writeConfiguration(root: root, chunk: 2)
        let single = "\(root)/single"
        let first = try Self.run(["train", "-o", single, "--config", chunked, "--threads", "1"])
        #expect(first.status == 0, "\(first.errors)")

        let sharded = "\(root)/two-ranks"
        let two = try Self.run(["train", "-o", sharded, "--config", config, "--nproc", "2", "--rank-data", "global"])
        #expect(two.status == 0, "\(two.errors)")
        #expect(two.errors.contains("2 ranks × 2 pairs (global batch 4)"))
        let unsharded = "\(root)/two-ranks-no-zero"
        let plain = try Self.run(
            ["train", "-o", unsharded, "--config", config, "--nproc", "2", "--rank-data", "global", "--no-zero"])
        #expect(plain.status == 0, "\(plain.errors)")

        let expected = try TrainingFixtures.losses(in: single)
        let actual = try TrainingFixtures.losses(in: sharded)
        #expect(expected.count == Self.steps && actual.count == Self.steps)
        for step in 1...Self.steps {
            let (a, b) = (try #require(expected[step]), try #require(actual[step]))
            #expect(abs(a - b) <= 1e-5 * abs(a), "step \(step): one process \(a), two ranks \(b)")
        }
        // The same parameters and optimizer state with and without sharding, in the same format. Sharded, each rank
        // averages and clips its range of the gradients, so the sums run in another order: equal to float rounding.
        for part in ["model", "optimizer", "momentum", "queues"] {
            let a = try CheckpointDirectory(root: "\(sharded)/checkpoints").checkpoint(step: Self.steps).tensors(part)
            let b = try CheckpointDirectory(root: "\(unsharded)/checkpoints").checkpoint(step: Self.steps).tensors(part)
            #expect(Set(a.keys) == Set(b.keys), "\(part) keys differ")
            for (key, tensor) in a {
                let other = try #require(b[key])
                #expect(try tensor.isClose(to: other, rtol: 1e-4, atol: 1e-6), "\(part) \(key) differs")
            }
        }
        // Only rank 0 writes: one line per step, validations included once.
        let lines = try String(contentsOfFile: "\(sharded)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("\"kind\":\"train\"") }.count == Self.steps)
        #expect(lines.contains { $0.contains("\"communicated_bytes\"") })

        // A two-rank checkpoint resumes on one process: drop the checkpoints after step 6 and continue.
        let resumed = "\(root)/resumed"
        try FileManager.default.copyItem(atPath: sharded, toPath: resumed)
        for step in stride(from: 8, through: Self.steps, by: 2) {
            try FileManager.default.removeItem(atPath: "\(resumed)/checkpoints/step-\(String(format: "%08d", step))")
        }
        let again = try Self.run(["train", "-o", resumed, "--config", chunked, "--resume", "--threads", "1"])
        #expect(again.status == 0, "\(again.errors)")
        let continued = try TrainingFixtures.losses(in: resumed)
        for step in 7...Self.steps {
            let (a, b) = (try #require(expected[step]), try #require(continued[step]))
            #expect(abs(a - b) <= 1e-5 * abs(a), "step \(step) after resuming on one process: \(b), expected \(a)")
        }
    }

    @Test("ranks reading their own shards train, and resume under the same world size")
    func shardedDataResumes() throws {
        let root = try TrainingFixtures.temporaryDirectory("ddp-shards")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = try Self.writeConfiguration(root: root)
        let run = "\(root)/run"
        let first = try Self.run(["train", "-o", run, "--config", config, "--nproc", "2", "--steps", "6"])
        #expect(first.status == 0, "\(first.errors)")
        let stateData = try #require(FileManager.default.contents(atPath: "\(run)/checkpoints/step-00000006/state.json"))
        let state = try JSONDecoder().decode(TrainerState.self, from: stateData)
        #expect(state.worldSize == 2 && state.rankData == .shards && state.rankCursors?.count == 2)
        // The two ranks read different samples: their cursors belong to different plans.
        #expect(Set(state.rankCursors?.map(\.planFingerprint) ?? []).count == 2)
        let second = try Self.run(["train", "-o", run, "--config", config, "--nproc", "2", "--resume"])
        #expect(second.status == 0, "\(second.errors)")
        #expect(try TrainingFixtures.losses(in: run).count == Self.steps)
    }

    @Test("a killed rank ends the other rank with an error, not a hang")
    func killedRankEndsTheJob() throws {
        let root = try TrainingFixtures.temporaryDirectory("ddp-kill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = try Self.writeConfiguration(root: root)
        let port = try LaunchEnvironment.freeLocalPort()
        let arguments = ["train", "-o", "\(root)/run", "--config", config, "--steps", "100000", "--threads", "1",
                         "--distributed-timeout", "60"]
        let survivor = try Self.start(arguments, environment: LaunchEnvironment.local(rank: 0, worldSize: 2, port: port))
        let victim = try Self.start(arguments, environment: LaunchEnvironment.local(rank: 1, worldSize: 2, port: port))
        let deadline = Date().addingTimeInterval(120)
        // Read the log without rewriting it (MetricsLog's initialiser would replace the file under the writer).
        func loggedSteps() -> Int {
            let text = (try? String(contentsOfFile: "\(root)/run/metrics.jsonl", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").filter { $0.contains("\"kind\":\"train\"") }.count
        }
        while survivor.isRunning, loggedSteps() < 3, Date() < deadline { usleep(20_000) }
        #expect(loggedSteps() >= 3, "the ranks never trained together")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let killedAt = Date()
        let errors = (survivor.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
        survivor.waitUntilExit()
        let message = String(decoding: errors, as: UTF8.self)
        #expect(survivor.terminationStatus != 0)
        #expect(Date().timeIntervalSince(killedAt) < 60)
        #expect(message.contains("rank 0 of 2") && message.contains("collective failed"), "\(message.suffix(500))")
    }

    @Test("four processes: a step over Gloo on loopback, a quarter of the optimizer state per rank")
    func fourProcesses() throws {
        let process = Process()
        process.executableURL = try #require(BuiltTool.brivl, "the brivl executable is not built beside the tests")
        process.arguments = [
            "bench", "dist", "--config", "tiny", "--world-sizes", "1", "4", "--batch", "8", "--iterations", "2",
            "--warmup", "0", "--rounds", "1",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        try #require(lines.count == 2)
        func number(_ line: [String: Any], _ key: String) -> Double { (line[key] as? NSNumber)?.doubleValue ?? .nan }
        #expect(number(lines[1], "world_size") == 4)
        #expect(number(lines[0], "ours_communicated_bytes_per_step") == 0)
        // Every gradient into the reduce-scatter, and this rank's quarter of the parameters into the all-gather.
        #expect(number(lines[1], "ours_communicated_bytes_per_step") >= 4 * 1.25 * number(lines[1], "parameters"))
        let single = number(lines[0], "ours_optimizer_state_mib_per_rank")
        let quarter = number(lines[1], "ours_optimizer_state_mib_per_rank")
        #expect(abs(quarter - single / 4) <= 0.01 * single, "state per rank: \(quarter) MiB of \(single) MiB")
    }

    @Test("the local launcher stops the other ranks when one fails and names it")
    func launcherStopsSurvivors() throws {
        let launcher = LocalLauncher(
            executable: "/bin/sh", arguments: ["-c", "if [ \"$RANK\" = 1 ]; then exit 3; fi; exec sleep 60"], processCount: 3,
            gracePeriod: 1)
        let start = Date()
        #expect {
            try launcher.run()
        } throws: { error in
            guard let failure = error as? LocalLauncher.Failure else { return false }
            return failure.rank == 1 && failure.status == 3
        }
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
