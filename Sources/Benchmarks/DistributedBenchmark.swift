import BriVL
import BriVLTraining
import Foundation
import Torch
import TorchNN

/// Data-parallel scaling on this machine: pairs per second of one training step for the same global batch run by
/// 1 process and by N processes (Gloo on loopback), the seconds a step spends in collectives and the bytes it
/// sends into them, beside PyTorch DDP + OpenCLIP's distributed loss on the same shape when the peer is given.
///
/// A step is the trainer's: zero the gradients → encode this rank's rows → in-batch loss over the gathered global
/// batch → backward → average gradients in buckets → clip → AdamW (ZeRO-1 when on) → clamp the logit scale.
/// Synthetic fp32 tensors, random-initialised model, the same seed in every run. Each world size runs in fresh
/// processes, alternating with the peer's; a side's step time is the median over rounds of rank 0's median.
public struct DistributedBenchmark {
    public struct Configuration: Sendable {
        public var preset: String
        public var globalBatch: Int
        public var iterations: Int
        public var warmup: Int
        public var threadsPerRank: Int
        public var worldSizes: [Int]
        public var rounds: Int
        public var shardOptimizerState: Bool
        public var peerVenv: String?
        public var peerScript: String?
        /// Our driver of the peer (`benchmarks/peer_dist_bench.py`).
        public var peerDriver: String = "benchmarks/peer_dist_bench.py"

        public init(
            preset: String = "tiny", globalBatch: Int = 64, iterations: Int = 10, warmup: Int = 3, threadsPerRank: Int = 1,
            worldSizes: [Int] = [1, 2], rounds: Int = 2, shardOptimizerState: Bool = true, peerVenv: String? = nil,
            peerScript: String? = nil
        ) {
            self.preset = preset
            self.globalBatch = globalBatch
            self.iterations = iterations
            self.warmup = warmup
            self.threadsPerRank = threadsPerRank
            self.worldSizes = worldSizes
            self.rounds = rounds
            self.shardOptimizerState = shardOptimizerState
            self.peerVenv = peerVenv
            self.peerScript = peerScript
        }
    }

    let configuration: Configuration
    /// This executable and the arguments that make it a worker (``runWorker(_:resultPath:)``).
    let workerCommand: (executable: String, arguments: [String])

    public init(configuration: Configuration, workerCommand: (executable: String, arguments: [String])) {
        self.configuration = configuration
        self.workerCommand = workerCommand
    }

    /// Why the peer will not run, nil when it will.
    public var peerAbsence: String? {
        TrainBenchmark.peerAbsence(
            preset: configuration.preset, venv: configuration.peerVenv, script: configuration.peerScript)
    }

    // MARK: - Rank side

    /// What rank 0 reports of one run.
    struct RunResult: Codable {
        var worldSize: Int
        var stepSeconds: [Double]
        var communicationSeconds: [Double]
        var communicatedBytes: [Int]
        var optimizerStateBytes: Int
        var parameters: Int
        var lossFirst: Double
        var lossLast: Double
    }

    /// One rank of a run (a single process when no launch variables are set); rank 0 writes its figures to
    /// `resultPath` as JSON.
    public static func runWorker(_ configuration: Configuration, resultPath: String) throws {
        LocalLauncher.endWithLauncher()
        Engine.threadCount = configuration.threadsPerRank
        Engine.seed(0)
        let launch = try LaunchEnvironment.read()
        let group = try launch.flatMap { $0.worldSize > 1 ? try $0.joinGroup(timeout: 300) : nil }
        let world = group?.worldSize ?? 1
        let rank = group?.rank ?? 0
        guard configuration.globalBatch % world == 0 else {
            throw BenchmarkError("the global batch \(configuration.globalBatch) does not split between \(world) ranks")
        }
        let generator = try Generator(seed: 0)
        let modelConfiguration = try BriVLConfiguration.preset(named: configuration.preset)
        let model = try BriVLModel(modelConfiguration, generator: generator)
        model.train()
        let batch = configuration.globalBatch
        let rows = batch / world
        let size = modelConfiguration.image.imageSize
        let length = modelConfiguration.text.maxLength
        let images = try Tensor.randn([batch, 3, size, size], generator: generator)
            .narrowed(dimension: 0, start: rank * rows, length: rows).contiguous()
        let tokenIDs = try Tensor.randint(
            1..<modelConfiguration.text.vocabularySize, shape: [batch, length], generator: generator
        ).narrowed(dimension: 0, start: rank * rows, length: rows).contiguous()
        let attentionMask = try Tensor.ones([rows, length], dtype: .int64)
        let objective = try PretrainingObjective(model: model, configuration: .clip, batchSize: batch)
        objective.processGroup = group
        let groups = ParameterGroup.decayGroups(for: model, weightDecay: 0.2)
        let optimizer: any Optimizer
        if let group, configuration.shardOptimizerState {
            optimizer = try ShardedAdamW(groups: groups, processGroup: group, learningRate: 5e-4, betas: (0.9, 0.98), eps: 1e-6)
        } else {
            optimizer = try AdamW(groups: groups, learningRate: 5e-4, betas: (0.9, 0.98), eps: 1e-6)
        }
        let synchroniser = group.map { GradientSynchroniser(group: $0) }
        let parameters = model.trainableParameters()
        let maximumLogScale = Foundation.log(modelConfiguration.maximumLogitScale)
        var result = RunResult(
            worldSize: world, stepSeconds: [], communicationSeconds: [], communicatedBytes: [], optimizerStateBytes: 0,
            parameters: model.parameterCount, lossFirst: .nan, lossLast: .nan)
        let clock = ContinuousClock()
        for iteration in 0..<(configuration.warmup + configuration.iterations) {
            try group?.barrier()
            group?.takeCommunicationFigures()
            let start = clock.now
            try optimizer.zeroGrad()
            let output = try objective.accumulateGradients(
                images: images, tokenIDs: tokenIDs, attentionMask: attentionMask, step: iteration, seed: 0)
            _ = try optimizer.prepareGradients(of: parameters, averagingWith: synchroniser, maxNorm: 1)
            try optimizer.step()
            try withNoGrad { try model.logitScale.clampInPlace(min: 0, max: maximumLogScale) }
            let end = clock.now
            let communication = group?.takeCommunicationFigures() ?? (bytes: 0, seconds: 0)
            guard iteration >= configuration.warmup else { continue }
            result.stepSeconds.append((end - start).seconds)
            result.communicationSeconds.append(communication.seconds)
            result.communicatedBytes.append(communication.bytes)
            if result.lossFirst.isNaN { result.lossFirst = output.loss }
            result.lossLast = output.loss
        }
        result.optimizerStateBytes =
            (optimizer as? ShardedAdamW)?.localStateBytes
            ?? parameters.reduce(0) { $0 + 2 * $1.byteCount }
        try group?.barrier()
        if rank == 0 { try JSONEncoder().encode(result).write(to: URL(fileURLWithPath: resultPath)) }
    }

    // MARK: - Driver

    /// Runs every world size (and the peer's) for the rounds and returns one line per world size.
    public func run() throws -> [BenchmarkRecord] {
        let withPeer = peerAbsence == nil
        var ours: [Int: [RunResult]] = [:]
        var peer: [Int: [[String: Any]]] = [:]
        for round in 0..<configuration.rounds {
            for world in configuration.worldSizes {
                let peerFirst = round % 2 == 1
                if withPeer && peerFirst { peer[world, default: []].append(try runPeer(world: world)) }
                ours[world, default: []].append(try runOurs(world: world))
                if withPeer && !peerFirst { peer[world, default: []].append(try runPeer(world: world)) }
            }
        }
        return records(ours: ours, peer: peer)
    }

    private func runOurs(world: Int) throws -> RunResult {
        let resultPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("brivl-bench-dist-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: resultPath) }
        let arguments = workerCommand.arguments + ["--result", resultPath]
        try LocalLauncher(
            executable: workerCommand.executable, arguments: arguments, processCount: world,
            environment: world == 1 ? ["WORLD_SIZE": "1", "RANK": "0"] : [:]
        ).run()
        guard let data = FileManager.default.contents(atPath: resultPath) else {
            throw BenchmarkError("the \(world)-rank run wrote no result")
        }
        return try JSONDecoder().decode(RunResult.self, from: data)
    }

    private func runPeer(world: Int) throws -> [String: Any] {
        guard let venv = configuration.peerVenv, let script = configuration.peerScript,
            let peerName = TrainBenchmark.peerConfigurations[configuration.preset]
        else { throw BenchmarkError("no peer") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(venv)/bin/python")
        process.arguments = [
            configuration.peerDriver, "--peer-script", script, "--config", peerName, "--world-size", "\(world)",
            "--batch", "\(configuration.globalBatch)", "--iterations", "\(configuration.iterations)", "--warmup",
            "\(configuration.warmup)", "--threads", "\(configuration.threadsPerRank)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw BenchmarkError("the peer's \(world)-rank run failed (status \(process.terminationStatus))") }
        return object
    }

    private func records(ours: [Int: [RunResult]], peer: [Int: [[String: Any]]]) -> [BenchmarkRecord] {
        let batch = Double(configuration.globalBatch)
        func oursStep(_ world: Int) -> Double {
            Measurement.median((ours[world] ?? []).map { Measurement.median($0.stepSeconds) })
        }
        func peerStep(_ world: Int) -> Double {
            let medians = (peer[world] ?? []).compactMap { ($0["median_s"] as? NSNumber)?.doubleValue }
            return medians.isEmpty ? .nan : Measurement.median(medians)
        }
        let base = configuration.worldSizes.min() ?? 1
        return configuration.worldSizes.map { world in
            let runs = ours[world] ?? []
            let oursRate = batch / oursStep(world)
            let oursEfficiency = (oursStep(base) * Double(base)) / (oursStep(world) * Double(world))
            let peerRate = batch / peerStep(world)
            let peerEfficiency = (peerStep(base) * Double(base)) / (peerStep(world) * Double(world))
            var fields: [(String, BenchmarkValue)] = [
                ("bench", "dist"), ("preset", .text(configuration.preset)), ("world_size", .integer(world)),
                ("threads_per_rank", .integer(configuration.threadsPerRank)),
                ("global_batch", .integer(configuration.globalBatch)),
                ("zero", .text(configuration.shardOptimizerState ? "on" : "off")),
                ("parameters", .integer(runs.first?.parameters ?? 0)),
                ("ours_step_median_s", .number(oursStep(world))), ("ours_pairs_per_s", .number(oursRate)),
                ("ours_scaling_efficiency", .number(oursEfficiency)),
                ("ours_communication_ms_per_step", .number(
                    Measurement.median(runs.map { Measurement.median($0.communicationSeconds) }) * 1e3)),
                ("ours_communicated_bytes_per_step", .integer(runs.first?.communicatedBytes.first ?? 0)),
                ("ours_optimizer_state_mib_per_rank", .number(Double(runs.first?.optimizerStateBytes ?? 0) / 1_048_576)),
                ("ours_loss_first", .number(runs.first?.lossFirst ?? .nan)),
                ("ours_loss_last", .number(runs.first?.lossLast ?? .nan)),
                ("peer_step_median_s", .number(peerStep(world))), ("peer_pairs_per_s", .number(peerRate)),
                ("peer_scaling_efficiency", .number(peerEfficiency)),
                ("ratio", .number(oursRate / peerRate)), ("rounds", .integer(configuration.rounds)),
            ]
            if let first = peer[world]?.first, let loss = (first["loss_last"] as? NSNumber)?.doubleValue {
                fields.append(("peer_loss_last", .number(loss)))
            }
            return BenchmarkRecord(fields)
        }
    }
}
