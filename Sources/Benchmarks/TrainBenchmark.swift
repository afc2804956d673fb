import BriVL
import Foundation
import Torch
import TorchNN

/// Training throughput and peak memory of one full step, ours beside OpenCLIP's on the same shape.
///
/// One step, as the peer's script times it: zero the gradients → encode the images and the texts → CLIP's in-batch
/// loss with the learnable logit scale → backward → AdamW (lr 5e-4, betas 0.9/0.98, eps 1e-6, weight decay 0.2;
/// biases, norms and the logit scale undecayed, where the peer's script decays every parameter: one in-place multiply
/// per small tensor less) → clamp the logit scale to [0, ln 100]. Random-initialised model, synthetic fp32 tensors
/// (normal images, uniform token ids with every mask position set), CPU.
///
/// Both sides run in fresh processes so that each peak RSS (`ru_maxrss`) belongs to that run alone: ours re-runs this
/// executable as a worker (``runWorker(_:)``), the peer is `peer_bench.py` in its venv. A round runs one of each, the
/// order alternating round by round; the step time of a side is the median over rounds of its per-run median.
public struct TrainBenchmark {
    public struct Configuration: Sendable {
        /// A model preset (`BriVLConfiguration.presetNames`); only `vit-tiny` has a peer equivalent.
        public var preset: String
        public var batch: Int
        /// Timed steps per run.
        public var iterations: Int
        /// Untimed steps before them.
        public var warmup: Int
        public var threads: Int
        /// Runs per side (fresh processes, interleaved with the peer's).
        public var rounds: Int
        /// Also time the parts of a step (zero-grad, each forward, loss, backward, optimizer, clamp).
        public var breakdown: Bool
        /// The peer's venv (its `bin/python` runs the script), or nil to measure ours only.
        public var peerVenv: String?
        /// The peer's `peer_bench.py`, or nil to measure ours only.
        public var peerScript: String?

        public init(
            preset: String = "vit-tiny", batch: Int = 64, iterations: Int = 10, warmup: Int = 3, threads: Int = 2,
            rounds: Int = 2, breakdown: Bool = false, peerVenv: String? = nil, peerScript: String? = nil
        ) {
            self.preset = preset
            self.batch = batch
            self.iterations = iterations
            self.warmup = warmup
            self.threads = threads
            self.rounds = rounds
            self.breakdown = breakdown
            self.peerVenv = peerVenv
            self.peerScript = peerScript
        }
    }

    /// Our presets and the name of the same shape in the peer's script.
    public static let peerConfigurations = ["vit-tiny": "tiny"]

    /// The parts of a step timed with `breakdown`, in order.
    public static let phases = ["zero_grad", "forward_image", "forward_text", "loss", "backward", "optimizer", "clamp"]

    let configuration: Configuration
    /// Starts our worker: the executable and the arguments that make it run ``runWorker(_:)`` with `configuration`.
    let workerCommand: (executable: String, arguments: [String])

    public init(configuration: Configuration, workerCommand: (executable: String, arguments: [String])) {
        self.configuration = configuration
        self.workerCommand = workerCommand
    }

    /// Why the peer will not run (no venv or script given, or no peer shape for the preset), nil when it will.
    public var peerAbsence: String? {
        Self.peerAbsence(preset: configuration.preset, venv: configuration.peerVenv, script: configuration.peerScript)
    }

    /// Why the peer cannot run `preset` with this venv and script, nil when it can.
    static func peerAbsence(preset: String, venv: String?, script: String?) -> String? {
        guard peerConfigurations[preset] != nil else { return "the peer has no equivalent of the \(preset) preset" }
        if venv == nil { return "no peer venv given (--peer-venv or BRIVL_PEER_VENV)" }
        if script == nil { return "no peer script given (--peer-script or BRIVL_PEER_SCRIPT)" }
        return nil
    }

    /// Runs the rounds and returns the one comparison line.
    public func run() throws -> BenchmarkRecord {
        let peer = try peerAbsence == nil ? PeerTrainRunner(configuration: configuration) : nil
        var ours: [WorkerResult] = []
        var theirs: [PeerResult] = []
        for round in 0..<configuration.rounds {
            if round % 2 == 0 || peer == nil {
                ours.append(try runWorkerProcess())
                if let peer { theirs.append(try peer.run()) }
            } else {
                if let peer { theirs.append(try peer.run()) }
                ours.append(try runWorkerProcess())
            }
        }
        return record(ours: ours, peer: theirs)
    }

    // MARK: - Our side, in a worker process

    /// One worker run's figures, as it reports them.
    struct WorkerResult {
        var stepSeconds: [Double]
        var peakRSSMiB: Double
        var parameters: Int
        var lossFirst: Double
        var lossLast: Double
        var phaseMilliseconds: [String: Double]
    }

    /// Measures ours in this process and returns the worker's line: every timed step's seconds, the peak RSS at the
    /// end, the parameter count, and with `breakdown` the median milliseconds of each phase.
    public static func runWorker(_ configuration: Configuration) throws -> BenchmarkRecord {
        Engine.threadCount = configuration.threads
        Engine.seed(0)
        let generator = try Generator(seed: 0)
        let modelConfiguration = try BriVLConfiguration.preset(named: configuration.preset)
        let model = try BriVLModel(modelConfiguration, generator: generator)
        model.train()
        let batch = configuration.batch
        let size = modelConfiguration.image.imageSize
        let length = modelConfiguration.text.maxLength
        let vocabulary = modelConfiguration.text.vocabularySize
        let images = try Tensor.randn([batch, 3, size, size], generator: generator)
        let tokenIDs = try Tensor.randint(1..<vocabulary, shape: [batch, length], generator: generator)
        let attentionMask = try Tensor.ones([batch, length], dtype: .int64)

        let loss = InBatchContrastiveLoss(maximumScale: modelConfiguration.maximumLogitScale)
        let optimizer = try AdamW(
            groups: ParameterGroup.decayGroups(for: model, weightDecay: 0.2), learningRate: 5e-4, betas: (0.9, 0.98),
            eps: 1e-6)
        let maximumLogScale = Foundation.log(modelConfiguration.maximumLogitScale)

        var stepSeconds: [Double] = []
        var phaseSeconds = [String: [Double]]()
        var losses: [Double] = []
        let clock = ContinuousClock()
        for iteration in 0..<(configuration.warmup + configuration.iterations) {
            let timed = iteration >= configuration.warmup
            var marks: [ContinuousClock.Instant] = []
            // Phase boundaries cost one clock read each, and only with `breakdown`.
            func mark() { if configuration.breakdown { marks.append(clock.now) } }
            let start = clock.now
            try optimizer.zeroGrad()
            mark()
            let imageEmbeddings = try model.encodeImage(images)
            mark()
            let textEmbeddings = try model.encodeText(tokenIDs: tokenIDs, attentionMask: attentionMask)
            mark()
            let output = try loss(image: imageEmbeddings, text: textEmbeddings, logScale: model.logitScale)
            mark()
            try output.loss.backward()
            mark()
            try optimizer.step()
            mark()
            try withNoGrad { try model.logitScale.clampInPlace(min: 0, max: maximumLogScale) }
            let end = clock.now
            guard timed else { continue }
            stepSeconds.append((end - start).seconds)
            losses.append(try output.loss.item())
            if configuration.breakdown {
                let boundaries = [start] + marks + [end]
                for (index, phase) in phases.enumerated() {
                    phaseSeconds[phase, default: []].append((boundaries[index + 1] - boundaries[index]).seconds)
                }
            }
        }

        var fields: [(String, BenchmarkValue)] = [
            ("bench", "train_worker"), ("config", .text(configuration.preset)), ("batch", .integer(batch)),
            ("threads", .integer(Engine.threadCount)), ("parameters", .integer(model.parameterCount)),
            ("peak_rss_mib", .number(peakResidentMiB())),
            ("step_seconds", .text(stepSeconds.map { String(format: "%.6f", $0) }.joined(separator: ","))),
            ("loss_first", .number(losses.first ?? .nan)), ("loss_last", .number(losses.last ?? .nan)),
        ]
        for phase in phases {
            guard let values = phaseSeconds[phase] else { continue }
            fields.append(("\(phase)_ms", .number(Measurement.median(values) * 1e3)))
        }
        return BenchmarkRecord(fields)
    }

    /// The largest resident set this process has had, in MiB (Linux reports `ru_maxrss` in KiB).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
            guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
            return Double(usage.ru_maxrss) / 1024
        #else
            guard getrusage(RUSAGE_SELF, &usage) == 0 else { return .nan }
            return Double(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }

    private func runWorkerProcess() throws -> WorkerResult {
        let line = try ChildProcess.jsonLines(
            executable: workerCommand.executable, arguments: workerCommand.arguments, what: "our training worker"
        ).last { $0["bench"] as? String == "train_worker" }
        guard let line, let stepText = line["step_seconds"] as? String, let peak = line["peak_rss_mib"] as? Double,
            let parameters = line["parameters"] as? Int
        else { throw BenchmarkError("our training worker printed no result line") }
        let steps = stepText.split(separator: ",").compactMap { Double($0) }
        guard !steps.isEmpty else { throw BenchmarkError("our training worker timed no step") }
        var phases: [String: Double] = [:]
        for phase in Self.phases { phases[phase] = (line["\(phase)_ms"] as? NSNumber)?.doubleValue }
        return WorkerResult(
            stepSeconds: steps, peakRSSMiB: peak, parameters: parameters,
            lossFirst: (line["loss_first"] as? NSNumber)?.doubleValue ?? .nan,
            lossLast: (line["loss_last"] as? NSNumber)?.doubleValue ?? .nan, phaseMilliseconds: phases)
    }

    // MARK: - The line

    private func record(ours: [WorkerResult], peer: [PeerResult]) -> BenchmarkRecord {
        let batch = Double(configuration.batch)
        let oursMedians = ours.map { Measurement.median($0.stepSeconds) }
        let oursMedian = Measurement.median(oursMedians)
        let oursSteps = ours.flatMap(\.stepSeconds)
        let oursPeak = ours.map(\.peakRSSMiB).max() ?? .nan
        let peerMedian = peer.isEmpty ? Double.nan : Measurement.median(peer.map(\.medianSeconds))
        let peerPeak = peer.map(\.peakRSSMiB).max() ?? .nan
        let oursRate = batch / oursMedian
        let peerRate = batch / peerMedian
        func list(_ values: [Double]) -> BenchmarkValue {
            .text(values.map { String(format: "%.2f", $0) }.joined(separator: ","))
        }
        var fields: [(String, BenchmarkValue)] = [
            ("bench", "train"), ("config", .text(configuration.preset)), ("batch", .integer(configuration.batch)),
            ("threads", .integer(configuration.threads)), ("ours_pairs_per_s", .number(oursRate)),
            ("peer_pairs_per_s", .number(peerRate)), ("ratio", .number(oursRate / peerRate)),
            ("ours_peak_rss_mib", .number(oursPeak)), ("peer_peak_rss_mib", .number(peerPeak)),
            ("rss_ratio", .number(oursPeak / peerPeak)),
            // The fastest step of each side: the least disturbed by other work on a shared machine.
            ("ratio_best", .number((peer.map(\.minSeconds).min() ?? .nan) / (oursSteps.min() ?? .nan))),
            ("ours_step_median_s", .number(oursMedian)), ("ours_step_min_s", .number(oursSteps.min() ?? .nan)),
            ("ours_step_max_s", .number(oursSteps.max() ?? .nan)), ("ours_n", .integer(oursSteps.count)),
            ("peer_step_median_s", .number(peerMedian)),
            ("peer_step_min_s", .number(peer.map(\.minSeconds).min() ?? .nan)),
            ("peer_step_max_s", .number(peer.map(\.maxSeconds).max() ?? .nan)),
            ("peer_n", .integer(peer.map(\.count).reduce(0, +))),
            ("ours_params", .integer(ours.first?.parameters ?? 0)),
            ("peer_params_m", .number(peer.first?.parametersMillions ?? .nan)),
            ("ours_round_pairs_per_s", list(oursMedians.map { batch / $0 })),
            ("peer_round_pairs_per_s", list(peer.map { batch / $0.medianSeconds })),
            ("ours_loss_first", .number(ours.first?.lossFirst ?? .nan)),
            ("ours_loss_last", .number(ours.first?.lossLast ?? .nan)),
            ("peer_loss_first", .number(peer.first?.lossFirst ?? .nan)),
            ("peer_loss_last", .number(peer.first?.lossLast ?? .nan)),
            ("warmup", .integer(configuration.warmup)), ("iterations", .integer(configuration.iterations)),
            ("rounds", .integer(configuration.rounds)), ("peer", .text(peer.first?.version ?? "none")),
            ("peer_matmul_gflops", .number(peer.first?.matmulGFLOPS ?? .nan)),
            // Both sides inherit it; libgomp's default spinning degrades badly when other processes share the cores.
            ("omp_wait_policy", .text(ProcessInfo.processInfo.environment["OMP_WAIT_POLICY"] ?? "default")),
        ]
        if configuration.breakdown {
            for phase in Self.phases {
                let values = ours.compactMap { $0.phaseMilliseconds[phase] }
                fields.append(("ours_\(phase)_ms", .number(values.isEmpty ? .nan : Measurement.median(values))))
            }
        }
        return BenchmarkRecord(fields)
    }
}

// MARK: - The peer

/// One run of the peer's training measurement.
struct PeerResult {
    var medianSeconds: Double
    var minSeconds: Double
    var maxSeconds: Double
    var count: Int
    var peakRSSMiB: Double
    var parametersMillions: Double
    var lossFirst: Double
    var lossLast: Double
    var version: String
    var matmulGFLOPS: Double
}

/// Runs `peer_bench.py --modes train` for the peer's equivalent of our preset and reads its lines.
struct PeerTrainRunner {
    let python: String
    let arguments: [String]

    init(configuration: TrainBenchmark.Configuration) throws {
        guard let venv = configuration.peerVenv, let script = configuration.peerScript,
            let name = TrainBenchmark.peerConfigurations[configuration.preset]
        else { throw BenchmarkError("the peer is not configured") }
        python = (venv as NSString).appendingPathComponent("bin/python")
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw BenchmarkError("no \(python): build the peer venv with setup-peer.sh VENV and pass --peer-venv VENV")
        }
        guard FileManager.default.fileExists(atPath: script) else {
            throw BenchmarkError("the peer script \(script) does not exist; pass --peer-script PATH (peer_bench.py)")
        }
        arguments = [
            script, "--configs", name, "--modes", "train", "--threads", "\(configuration.threads)",
            "--batch", "\(configuration.batch)", "--warmup", "\(configuration.warmup)",
            "--iters", "\(configuration.iterations)",
        ]
    }

    func run() throws -> PeerResult {
        let lines = try ChildProcess.jsonLines(executable: python, arguments: arguments, what: "the peer")
        if let failure = lines.first(where: { $0["kind"] as? String == "error" }) {
            throw BenchmarkError("the peer failed: \(failure["stderr_tail"] as? String ?? "\(failure)")")
        }
        guard let train = lines.last(where: { $0["kind"] as? String == "train" }),
            let median = (train["median_s"] as? NSNumber)?.doubleValue,
            let peak = (train["peak_rss_mib"] as? NSNumber)?.doubleValue
        else { throw BenchmarkError("the peer printed no train line") }
        let environment = lines.first { $0["kind"] as? String == "env" }
        func number(_ key: String, in line: [String: Any]?) -> Double { (line?[key] as? NSNumber)?.doubleValue ?? .nan }
        let version =
            "open_clip \(environment?["open_clip"] ?? "?"), torch \(environment?["torch"] ?? "?"), "
            + "python \(environment?["python"] ?? "?")"
        return PeerResult(
            medianSeconds: median, minSeconds: number("min_s", in: train), maxSeconds: number("max_s", in: train),
            count: train["n"] as? Int ?? 0, peakRSSMiB: peak, parametersMillions: number("params_M", in: train),
            lossFirst: number("loss_first", in: train), lossLast: number("loss_last", in: train), version: version,
            matmulGFLOPS: number("matmul_1024_gflops", in: environment))
    }
}

// MARK: - Child processes

enum ChildProcess {
    /// Runs a program to completion, its error output passed through, and parses the JSON objects among its output
    /// lines (other lines are ignored).
    static func jsonLines(executable: String, arguments: [String], what: String) throws -> [[String: Any]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw BenchmarkError("cannot start \(what) (\(executable)): \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkError("\(what) exited with status \(process.terminationStatus) (see its error output above)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard line.hasPrefix("{") else { return nil }
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
