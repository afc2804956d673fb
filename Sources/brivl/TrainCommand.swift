import ArgumentParser
import BriVL
import BriVLInference
import BriVLTraining
import Dispatch
import Foundation
import Torch

extension BriVL {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pretrain a BriVL model on WebDataset shards.",
            discussion: """
                A run lives in its output folder: training.json (the settings), vocab.txt, metrics.jsonl (one JSON \
                line per logged step and per validation), curves.svg (loss, temperature, recall) and \
                checkpoints/step-…/ (weights, momentum towers, queues, optimizer, random state, data cursor).
                Settings come from --config (a training.json) or from a --preset plus the options below; options \
                given on the command line override the file. Ctrl-C stops after the current step, validates and \
                writes a checkpoint; --resume continues a stopped (or killed) run exactly where its last \
                checkpoint left it.

                Data parallelism: --nproc N starts N ranks on this machine; under torchrun or any launcher that \
                sets MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE (and LOCAL_RANK, LOCAL_WORLD_SIZE) every process \
                joins one job over c10d's Gloo backend. --batch-size stays the global batch; each rank trains on its \
                slice, the contrastive loss sees every rank's embeddings, and rank 0 writes the run folder, which \
                must be on a filesystem all ranks see to resume.
                """)

        @Option(name: .shortAndLong, help: "The run folder.")
        var output: String

        @Option(help: "A training.json to start from (default with --resume: the run folder's own).")
        var config: String?

        @Option(help: "Model preset when no --config is given: \(ModelPreset.allNames.joined(separator: ", ")) (default tiny).")
        var preset: ModelPreset?

        @Option(
            help: "Start from the weights of a run folder or checkpoint (ours, or one brivl import wrote): its model's shape and, unless --vocabulary is given, its vocab.txt; a new optimizer and new queues.")
        var initFrom: String?

        @Option(help: "Objective recipe: clip (in-batch loss), moco (BriVL's queues), brivl (moco + distillation).")
        var recipe: Recipe?

        @Option(help: "Folder of training shards.")
        var train: String?

        @Option(help: "Folder of held-out shards for retrieval validation.")
        var validation: String?

        @Option(help: "Folder of zero-shot shards (class in each sample's `label`; classes.json beside them).")
        var zeroShot: String?

        @Option(help: "WordPiece vocab.txt.")
        var vocabulary: String?

        @Option(help: "Optimizer steps of the run.") var steps: Int?
        @Option(help: "Pairs per batch.") var batchSize: Int?
        @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Double?
        @Option(help: "Linear warm-up steps.") var warmupSteps: Int?
        @Option(help: "MoCo queue size (a multiple of the batch size).") var queueSize: Int?
        @Option(help: "MoCo momentum m of the momentum towers' moving average.") var momentum: Double?
        @Option(help: "Momentum-distillation α (0 turns it off).") var distillation: Double?
        @Option(help: "Steps over which α ramps up from 0.") var distillationWarmupSteps: Int?
        @Option(help: "Masked-language-model loss weight (0 turns it off).") var mlmWeight: Double?
        @Option(help: "Encode batches in chunks of this size with a gradient cache.") var gradientCacheChunk: Int?
        @Option(help: "Freeze the CNN stem and its first n stages.") var frozenImageStages: Int?
        @Option(help: "Train only the last n BERT layers.") var trainableTextLayers: Int?
        @Option(help: "Seed of initialisation, data order, augmentation and masking.") var seed: UInt64?
        @Option(help: "Log every n steps.") var logEvery: Int?
        @Option(help: "Validate every n steps (0: only at the end).") var validateEvery: Int?
        @Option(help: "Validation pairs.") var validationPairs: Int?
        @Option(help: "Checkpoint every n steps.") var checkpointEvery: Int?
        @Option(help: "Loader decode threads.") var workers: Int?
        @Option(help: "Stop (validate, checkpoint) after this many minutes; --resume continues.") var timeLimit: Double?
        @Option(
            help: "Stop after this many minutes of CPU time (all threads of the process, data loading included): an equal compute budget for comparing recipes on a shared machine."
        ) var cpuLimit: Double?

        @Flag(help: "MoCo: also use the batch's other momentum keys as negatives (ALBEF), not only the queue.")
        var batchNegatives = false

        @Flag(
            help: "Also score each image against one hard negative of its caption: a caption with one detail changed, from the records' hard_negatives (brivl data fashion-captions writes them). In-batch loss only."
        )
        var hardNegatives = false

        @Flag(help: "Continue from the run folder's latest checkpoint.")
        var resume = false

        @Flag(help: "Print the resolved training.json and exit.")
        var printConfig = false

        @OptionGroup var engine: EngineOptions

        @OptionGroup(title: "Data parallelism") var distributed: DistributedOptions

        func run() throws {
            let configuration = try resolvedConfiguration()
            if printConfig {
                print(String(decoding: try configuration.encodedJSON(), as: UTF8.self))
                return
            }
            let launch = try LaunchEnvironment.read()
            if launch == nil, distributed.nproc > 1 {
                try distributed.launchLocally()
                return
            }
            LocalLauncher.endWithLauncher()
            engine.apply(sharingCoresWith: launch?.localWorldSize ?? 1)
            let parallelism = try distributed.parallelism(for: launch)
            let trainer: Trainer
            do {
                trainer = try Trainer(
                    configuration: configuration, outputDirectory: output, resume: resume, parallelism: parallelism)
            } catch {
                throw DistributedOptions.labelled(error, parallelism)
            }
            let resolved = trainer.configuration
            if trainer.isPrimary {
                for damaged in trainer.damagedCheckpoints {
                    FileHandle.standardError.write(Data("warning: \(damaged); resuming from an older one\n".utf8))
                }
            }
            // Every rank stops on Ctrl-C, the time limit or the CPU budget; the ranks agree on the step to stop at.
            let interrupt = InterruptFlag(announce: trainer.isPrimary)
            let deadline = timeLimit.map { Date().addingTimeInterval($0 * 60) }
            let cpuBudget = cpuLimit.map { $0 * 60 }
            let shouldStop = {
                interrupt.isSet || deadline.map { Date() >= $0 } ?? false
                    || cpuBudget.map { ProcessorTime.seconds() >= $0 } ?? false
            }
            guard trainer.isPrimary else {
                do {
                    try trainer.run(shouldStop: shouldStop)
                } catch {
                    throw DistributedOptions.labelled(error, parallelism)
                }
                return
            }
            if let parallelism {
                FileHandle.standardError.write(Data((distributed.describe(parallelism, trainer: trainer) + "\n").utf8))
            }
            FileHandle.standardError.write(
                Data(
                    ("training \(resolved.model.name) (\(trainer.model.parameterCount.formatted()) parameters, "
                        + "\(resolved.objective.contrast.name) contrast) into \(output)"
                        + (trainer.step > 0 ? ", resuming after step \(trainer.step)" : "") + "\n").utf8))
            let progress = ProgressBar("train", total: resolved.run.steps)
            let firstStep = trainer.step
            trainer.onProgress = { report in
                progress.update(
                    report.step, total: report.totalSteps,
                    detail: String(
                        format: "loss %.4f τ %.4f %.0f pairs/s", report.loss, report.temperature,
                        report.pairsPerSecond))
            }
            trainer.onMessage = { message in FileHandle.standardError.write(Data(("\n" + message + "\n").utf8)) }
            let final: ValidationRecord?
            do {
                final = try trainer.run(shouldStop: shouldStop)
            } catch {
                throw DistributedOptions.labelled(error, parallelism)
            }
            progress.finish(trainer.step, detail: "\(trainer.step - firstStep) steps this run")
            if let final { print(Trainer.describe(final)) }
            print("checkpoints: \((output as NSString).appendingPathComponent("checkpoints"))")
            print("metrics: \((output as NSString).appendingPathComponent("metrics.jsonl")), curves: "
                + (output as NSString).appendingPathComponent("curves.svg"))
        }

        private func resolvedConfiguration() throws -> TrainingConfiguration {
            let existing = Trainer.configurationPath(in: output)
            var configuration: TrainingConfiguration
            if let config {
                configuration = try TrainingConfiguration.read(from: config)
            } else if resume, FileManager.default.fileExists(atPath: existing) {
                configuration = try TrainingConfiguration.read(from: existing)
            } else if let initFrom {
                guard preset == nil else {
                    throw ValidationError("--init-from takes the model's shape from its checkpoint: leave out --preset")
                }
                guard let train else { throw ValidationError("give --train with --init-from") }
                let source: RunCheckpoint
                do { source = try RunCheckpoint(path: initFrom) } catch {
                    throw ValidationError("--init-from \(initFrom): \(error)")
                }
                let model = try source.configuration()
                if model.text.causal != nil {
                    throw ValidationError(
                        "--init-from \(initFrom): its text tower is CLIP's causal Transformer (an OpenCLIP import); "
                            + "training reads captions with WordPiece only, so it cannot be fine-tuned yet")
                }
                configuration = TrainingConfiguration(
                    model: model,
                    data: .init(
                        trainShards: train,
                        vocabulary: vocabulary ?? (source.runDirectory as NSString).appendingPathComponent("vocab.txt")))
            } else {
                guard let train, let vocabulary else {
                    throw ValidationError("give --config, or --train and --vocabulary (and usually --validation)")
                }
                configuration = TrainingConfiguration(
                    model: (preset ?? .tiny).configuration,
                    data: .init(trainShards: train, vocabulary: vocabulary))
            }
            if let initFrom { configuration.run.initFrom = URL(fileURLWithPath: initFrom).standardizedFileURL.path }
            if let recipe { configuration.objective = recipe.objective }
            if let train { configuration.data.trainShards = train }
            if let validation { configuration.data.validationShards = validation }
            if let zeroShot { configuration.data.zeroShotShards = zeroShot }
            if let vocabulary { configuration.data.vocabulary = vocabulary }
            if let steps { configuration.run.steps = steps }
            if let batchSize { configuration.data.batchSize = batchSize }
            if let learningRate { configuration.optimization.learningRate = learningRate }
            if let warmupSteps { configuration.optimization.warmupSteps = warmupSteps }
            try applyMomentumOptions(to: &configuration.objective)
            if let mlmWeight { configuration.objective.maskedLanguageModelWeight = mlmWeight }
            if let gradientCacheChunk { configuration.objective.gradientCacheChunk = gradientCacheChunk }
            if let frozenImageStages { configuration.optimization.frozenImageStages = frozenImageStages }
            if let trainableTextLayers { configuration.optimization.trainableTextLayers = trainableTextLayers }
            if let seed { configuration.run.seed = seed }
            if let logEvery { configuration.run.logEvery = logEvery }
            if let validateEvery { configuration.run.validateEvery = validateEvery }
            if let validationPairs { configuration.run.validationPairs = validationPairs }
            if let checkpointEvery { configuration.run.checkpointEvery = checkpointEvery }
            if let workers { configuration.data.workerThreads = workers }
            if hardNegatives { configuration.data.hardNegatives = true }
            return configuration
        }

        /// The MoCo options, which only a momentum contrast has.
        private func applyMomentumOptions(to objective: inout ObjectiveConfiguration) throws {
            let given = [
                queueSize.map { _ in "--queue-size" }, momentum.map { _ in "--momentum" },
                batchNegatives ? "--batch-negatives" : nil, distillation.map { _ in "--distillation" },
                distillationWarmupSteps.map { _ in "--distillation-warmup-steps" },
            ].compactMap { $0 }
            guard !given.isEmpty else { return }
            guard case .momentum(var settings) = objective.contrast else {
                throw ValidationError(
                    "\(given.joined(separator: ", ")) set the momentum contrast, which the in-batch objective does "
                        + "not have; add --recipe moco or --recipe brivl")
            }
            if let queueSize { settings.queueSize = queueSize }
            if let momentum { settings.momentum = momentum }
            if batchNegatives { settings.batchNegatives = true }
            if let distillation { settings.distillation = distillation }
            if let distillationWarmupSteps { settings.distillationWarmupSteps = distillationWarmupSteps }
            objective.contrast = .momentum(settings)
        }
    }
}

/// CPU time (user + system) this process has used so far, over all its threads.
enum ProcessorTime {
    static func seconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }
}

/// Set once SIGINT arrives; the training loop polls it between steps. A second Ctrl-C exits at once.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    /// - Parameter announce: print the "stopping" line (rank 0 only, so a local job prints it once)
    init(announce: Bool = true) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [unowned self] in
            let already = lock.withLock { () -> Bool in
                defer { set = true }
                return set
            }
            if already { exit(130) }
            if announce {
                FileHandle.standardError.write(Data("\nstopping after this step (Ctrl-C again to quit now)\n".utf8))
            }
        }
        source.resume()
    }

    var isSet: Bool { lock.withLock { set } }
}

extension ModelPreset: ExpressibleByArgument {}
extension Recipe: ExpressibleByArgument {}
