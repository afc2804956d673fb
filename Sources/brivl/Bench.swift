import ArgumentParser
import Benchmarks
import BriVL
import Foundation

extension BriVL {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks printing one JSON line per figure.",
            subcommands: [
                EngineBench.self, DataBench.self, TrainBench.self, DistBench.self, SearchBench.self, EmbedBench.self,
            ])
    }

    struct EmbedBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embed",
            abstract: "Image and caption embedding per second of an imported model, ours beside its own project's PyTorch code (ratio = ours / peer speed).",
            discussion: """
                --checkpoint is the run folder `brivl import` wrote from --peer-checkpoint. The peer is \
                benchmarks/peer_embed.py: cn_clip 1.6's or open_clip 2.24's model code from the wheels in --data \
                (scripts/fetch-test-data.sh puts them in .cache/test-data/downloads), the same batch, the same \
                threads, no autograd. Images are random tensors of the model's size through the image tower (no \
                decoding on either side); captions are tokenised and embedded. Without --peer-checkpoint only our \
                side runs.
                """)

        @OptionGroup var engine: EngineOptions

        @Option(help: "The imported run folder.") var checkpoint: String
        @Option(help: "The original checkpoint file, for the peer.") var peerCheckpoint: String?
        @Option(help: "The peer's family: chinese-clip or open-clip.") var from: String = "chinese-clip"
        @Option(help: "The peer's configuration name (ViT-B-16, RN50, ViT-B-32, …).") var arch: String = "ViT-B-16"
        @Option(help: "The folder holding downloads/ with the projects' wheels.") var data: String = ".cache/test-data"
        @Option(help: "A Python with PyTorch (and regex, for OpenCLIP).") var python: String = "/usr/bin/python3"
        @Option(help: "The peer's driver.") var peerScript: String = "benchmarks/peer_embed.py"
        @Option(help: "Images and captions per round.") var batch: Int = 16
        @Option(help: "Timed rounds per side (in two blocks each, taking turns with the peer).") var rounds: Int = 6

        func validate() throws {
            guard ["chinese-clip", "open-clip"].contains(from) else {
                throw ValidationError("--from must be chinese-clip or open-clip, got \(from)")
            }
            if batch < 1 || rounds < 1 { throw ValidationError("--batch and --rounds must be at least 1") }
            if let peerCheckpoint, !FileManager.default.fileExists(atPath: peerCheckpoint) {
                throw ValidationError("--peer-checkpoint \(peerCheckpoint) does not exist")
            }
        }

        func run() throws {
            engine.apply()
            let benchmark = EmbedBenchmark(
                configuration: .init(
                    run: checkpoint, peerCheckpoint: peerCheckpoint, family: from, arch: arch, data: data,
                    python: python, peerScript: peerScript, batch: batch, rounds: rounds))
            try benchmark.run { record in FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8)) }
        }
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

    struct TrainBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Training steps per second and peak RSS, ours beside OpenCLIP's on the same shape (ratio = ours / peer speed).",
            discussion: """
                A step: zero-grad, both towers forward, CLIP in-batch loss with the learnable logit scale, backward, \
                AdamW (lr 5e-4, betas 0.9/0.98, eps 1e-6, weight decay 0.2), logit-scale clamp; random-initialised \
                model, synthetic fp32 tensors, CPU. Each side runs in fresh processes (so each peak RSS is its own), \
                alternating round by round. The peer is `peer_bench.py` run with the venv's python; without a venv \
                and a script only our figures are printed.
                """)

        @Option(
            help: "Model preset: \(ModelPreset.allNames.joined(separator: ", ")); only vit-tiny has a peer equivalent.")
        var config: ModelPreset = .vitTiny

        @Option(help: "Pairs per step.")
        var batch: Int = 64

        @Option(help: "Timed steps per run; the median is reported.")
        var iterations: Int = 10

        @Option(help: "Untimed steps before them.")
        var warmup: Int = 3

        @Option(help: "CPU threads for both sides' kernels.")
        var threads: Int = 2

        @Option(help: "Runs per side, each in a fresh process, alternating with the peer's.")
        var rounds: Int = 2

        @Flag(help: "Also report the median milliseconds of each part of our step.")
        var breakdown = false

        @Option(help: "The peer's venv, built by setup-peer.sh (default: $BRIVL_PEER_VENV).")
        var peerVenv: String?

        @Option(help: "The peer's peer_bench.py (default: $BRIVL_PEER_SCRIPT).")
        var peerScript: String?

        @Flag(help: .hidden)
        var worker = false

        func validate() throws {
            for (name, value, minimum) in [
                ("--batch", batch, 2), ("--iterations", iterations, 1), ("--warmup", warmup, 0),
                ("--threads", threads, 1), ("--rounds", rounds, 1),
            ] where value < minimum {
                throw ValidationError("\(name) must be at least \(minimum), got \(value)")
            }
        }

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
            let configuration = TrainBenchmark.Configuration(
                preset: config.rawValue, batch: batch, iterations: iterations, warmup: warmup, threads: threads,
                rounds: rounds, breakdown: breakdown,
                peerVenv: nonEmpty(peerVenv) ?? nonEmpty(environment["BRIVL_PEER_VENV"]),
                peerScript: nonEmpty(peerScript) ?? nonEmpty(environment["BRIVL_PEER_SCRIPT"]))
            func emit(_ record: BenchmarkRecord) {
                FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
            }
            do {
                if worker {
                    emit(try TrainBenchmark.runWorker(configuration))
                    return
                }
                // The worker is this executable again, with the same settings.
                let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
                var arguments = [
                    "bench", "train", "--worker", "--config", config.rawValue, "--batch", "\(batch)", "--iterations",
                    "\(iterations)", "--warmup", "\(warmup)", "--threads", "\(threads)",
                ]
                if breakdown { arguments.append("--breakdown") }
                let benchmark = TrainBenchmark(configuration: configuration, workerCommand: (executable, arguments))
                if let absence = benchmark.peerAbsence {
                    FileHandle.standardError.write(Data("bench train: \(absence); printing our figures only\n".utf8))
                }
                emit(try benchmark.run())
            } catch let error as BenchmarkError {
                throw ValidationError(error.description)
            }
        }
    }

    struct DistBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dist",
            abstract: "Data-parallel scaling: N processes × T threads against 1 process for the same global batch (pairs/s, communication per step).",
            discussion: """
                Each world size runs in fresh processes over Gloo on loopback (this executable as the ranks); one \
                JSON line per world size with ours_scaling_efficiency = (pairs/s with N ranks) / (N × pairs/s with \
                1 rank), the seconds rank 0 spends in collectives per step and the bytes it sends into them. With \
                --peer-venv (and the vit-tiny preset, the peer's tiny shape) PyTorch DDP with OpenCLIP's \
                distributed loss runs the same global batch beside ours (benchmarks/peer_dist_bench.py).
                """)

        @Option(help: "Model preset: \(ModelPreset.allNames.joined(separator: ", ")).")
        var config: ModelPreset = .tiny
        @Option(help: "Pairs per step, over all ranks.") var batch: Int = 64
        @Option(help: "Timed steps per run; rank 0's median is reported.") var iterations: Int = 10
        @Option(help: "Untimed steps before them.") var warmup: Int = 3
        @Option(help: "Engine threads per rank.") var threads: Int = 1
        @Option(parsing: .upToNextOption, help: "World sizes to run (the smallest is the scaling baseline).")
        var worldSizes: [Int] = [1, 2]
        @Option(help: "Runs per world size, alternating with the peer's.") var rounds: Int = 2
        @Flag(inversion: .prefixedNo, help: "ZeRO-1 (sharded AdamW state).") var zero = true
        @Option(help: "The peer's venv, built by setup-peer.sh (default: $BRIVL_PEER_VENV).") var peerVenv: String?
        @Option(help: "The peer's peer_bench.py (default: $BRIVL_PEER_SCRIPT).") var peerScript: String?
        @Option(help: .hidden) var result: String?
        @Flag(help: .hidden) var worker = false

        func validate() throws {
            for (name, value, minimum) in [
                ("--batch", batch, 1), ("--iterations", iterations, 1), ("--warmup", warmup, 0), ("--threads", threads, 1),
                ("--rounds", rounds, 1),
            ] where value < minimum {
                throw ValidationError("\(name) must be at least \(minimum), got \(value)")
            }
            if worldSizes.isEmpty || worldSizes.contains(where: { $0 < 1 || batch % $0 != 0 }) {
                throw ValidationError("--world-sizes must be positive and divide --batch \(batch), got \(worldSizes)")
            }
        }

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
            let configuration = DistributedBenchmark.Configuration(
                preset: config.rawValue, globalBatch: batch, iterations: iterations, warmup: warmup, threadsPerRank: threads,
                worldSizes: worldSizes.sorted(), rounds: rounds, shardOptimizerState: zero,
                peerVenv: nonEmpty(peerVenv) ?? nonEmpty(environment["BRIVL_PEER_VENV"]),
                peerScript: nonEmpty(peerScript) ?? nonEmpty(environment["BRIVL_PEER_SCRIPT"]))
            do {
                if worker {
                    guard let result else { throw ValidationError("a worker needs --result") }
                    try DistributedBenchmark.runWorker(configuration, resultPath: result)
                    return
                }
                var arguments = [
                    "bench", "dist", "--worker", "--config", config.rawValue, "--batch", "\(batch)", "--iterations", "\(iterations)",
                    "--warmup", "\(warmup)", "--threads", "\(threads)",
                ]
                if !zero { arguments.append("--no-zero") }
                let benchmark = DistributedBenchmark(
                    configuration: configuration, workerCommand: ("/proc/self/exe", arguments))
                if let absence = benchmark.peerAbsence {
                    FileHandle.standardError.write(Data("bench dist: \(absence); printing our figures only\n".utf8))
                }
                for record in try benchmark.run() {
                    FileHandle.standardOutput.write(Data((record.jsonLine + "\n").utf8))
                }
            } catch let error as BenchmarkError {
                throw ValidationError(error.description)
            }
        }
    }
}
