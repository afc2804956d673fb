import BriVL
import BriVLData
import BriVLInference
import Foundation
import Imaging
import Tokenization
import Torch
import TorchNN

/// What the trainer reports after every step, for progress displays.
public struct TrainingProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var temperature: Double
    public var pairsPerSecond: Double
    public var elapsedSeconds: Double
}

/// A pretraining run in an output folder: `training.json`, `metrics.jsonl`, `curves.svg`, `vocab.txt` and
/// `checkpoints/step-…/`.
///
/// The run is deterministic on the CPU for a seed: model initialisation, data order and augmentation, masking
/// and dropout all derive from it, and a checkpoint holds every piece of state that changes (weights, momentum
/// towers, queues, optimizer moments, random state, loader cursor), so a run resumed from a checkpoint continues
/// with exactly the losses it would have had.
///
/// With a ``DataParallelism`` the run is one rank of a data-parallel group: the batch size stays the global
/// batch, each rank trains on its slice, gradients are averaged across ranks before the (optionally sharded)
/// optimizer step, and only rank 0 writes the run's files. Every rank reads the checkpoint it resumes from.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let outputDirectory: String
    public let model: BriVLModel
    public let objective: PretrainingObjective
    public let tokenizer: BertTokenizer
    let optimizer: any Optimizer
    /// The generator every dropout of the objective draws from (saved in checkpoints).
    let dropoutGenerator: Generator
    /// The data-parallel group this trainer is a rank of; nil for a single process.
    public let parallelism: DataParallelism?
    let synchroniser: GradientSynchroniser?
    /// Rank 0 (or a single process): the rank that validates and writes files.
    public var isPrimary: Bool { (parallelism?.rank ?? 0) == 0 }
    let schedule: WarmupCosineSchedule
    let checkpoints: CheckpointDirectory
    public let metrics: MetricsLog
    /// Completed optimizer steps.
    public internal(set) var step = 0
    var cursor: LoaderCursor?
    /// The step of the last checkpoint written or restored.
    var savedStep: Int?
    private var validationSet: EvaluationSet?
    private var zeroShotSet: ZeroShotSet?
    /// Called after every step.
    public var onProgress: ((TrainingProgress) -> Void)?
    /// Called with messages worth a line of their own (resume, validation, checkpoints).
    public var onMessage: ((String) -> Void)?
    /// Newer checkpoints passed over on resume because their files do not verify; the run went on from the
    /// newest intact one.
    public let damagedCheckpoints: [CheckpointDirectory.DamagedCheckpoint]

    public var configurationPath: String { Self.configurationPath(in: outputDirectory) }
    public static func configurationPath(in directory: String) -> String {
        RunFolder.configurationPath(in: directory)
    }

    /// Prepares a run: the folder (``RunFolder``), what it trains with (``TrainingComponents``), the checkpoint it
    /// resumes from, and the ranks' common start. With `resume`, the latest complete checkpoint in the folder is
    /// restored; without it, a folder that already holds checkpoints is refused (pass `resume` or choose another
    /// folder).
    public init(
        configuration given: TrainingConfiguration, outputDirectory: String, resume: Bool,
        parallelism: DataParallelism? = nil
    ) throws {
        let isPrimary = (parallelism?.rank ?? 0) == 0
        if given.model.text.causal != nil {
            throw TrainingError.invalidConfiguration(
                "this model's text tower is CLIP's causal Transformer (an OpenCLIP import), read by CLIP's BPE "
                    + "tokenizer, and training reads captions with WordPiece only: fine-tuning it is not supported yet "
                    + "(eval, index, search, serve and explain take the imported run as it is)")
        }
        if given.data.hardNegatives, let parallelism, parallelism.worldSize > 1 {
            throw TrainingError.invalidConfiguration(
                "hard negatives are not supported in data-parallel training yet; train in one process")
        }
        if let parallelism, given.data.batchSize % parallelism.worldSize != 0 {
            throw TrainingError.invalidConfiguration(
                "the global batch of \(given.data.batchSize) does not split evenly between "
                    + "\(parallelism.worldSize) ranks")
        }
        let folder = try RunFolder(path: outputDirectory, configuration: given, resume: resume, isPrimary: isPrimary)
        let configuration = folder.configuration
        self.configuration = configuration
        self.outputDirectory = outputDirectory
        checkpoints = folder.checkpoints
        self.parallelism = parallelism
        synchroniser = parallelism.map { GradientSynchroniser(group: $0.group, bucketBytes: $0.bucketBytes) }
        tokenizer = try BertTokenizer(vocabulary: folder.vocabulary, configuration: .chineseCLIP)
        // A warm start applies to a new run only: a resumed one continues from its own checkpoint.
        var initialWeights: [String: Tensor]? = nil
        if let initFrom = configuration.run.initFrom, folder.latest == nil {
            let source: RunCheckpoint
            do {
                source = try RunCheckpoint(path: initFrom)
                initialWeights = try source.weights()
            } catch {
                throw TrainingError.invalidConfiguration("cannot read --init-from \(initFrom): \(error)")
            }
            // Imported weights expect their own image preparation; the new run's evaluation keeps it.
            let preparation = (source.runDirectory as NSString).appendingPathComponent(ImagePreprocessing.fileName)
            let copy = (outputDirectory as NSString).appendingPathComponent(ImagePreprocessing.fileName)
            if isPrimary, let data = FileManager.default.contents(atPath: preparation),
                !FileManager.default.fileExists(atPath: copy)
            {
                try data.write(to: URL(fileURLWithPath: copy), options: .atomic)
            }
        }
        let components = try TrainingComponents(
            configuration: configuration, tokenizer: tokenizer, parallelism: parallelism, initialWeights: initialWeights)
        model = components.model
        objective = components.objective
        optimizer = components.optimizer
        schedule = components.schedule
        dropoutGenerator = components.dropout
        let latest = folder.latest
        damagedCheckpoints = folder.damaged

        let metricsPath = (outputDirectory as NSString).appendingPathComponent("metrics.jsonl")
        metrics = isPrimary ? try MetricsLog(path: metricsPath, keepingThrough: latest?.step ?? 0) : MetricsLog()
        if let latest {
            try restore(from: latest)
        }
        if let parallelism, let synchroniser, parallelism.worldSize > 1 {
            // Every rank starts from rank 0's state; the other ranks then draw their own dropout streams, seeded by
            // rank and step (a checkpoint holds rank 0's random state only).
            try synchroniser.broadcastFromFirstRank(replicatedTensors)
            if parallelism.rank > 0 {
                Engine.seed(configuration.run.seed ^ (UInt64(parallelism.rank) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(step))
                try dropoutGenerator.reseed(
                    TrainingComponents.dropoutSeed(runSeed: configuration.run.seed, rank: parallelism.rank, step: step))
            }
        }
    }

    /// What every rank must hold identically: parameters and buffers of the trained modules and momentum towers,
    /// and the MoCo queues.
    var replicatedTensors: [Tensor] {
        let tensors = objective.trainedModules.flatMap { $0.stateDict().map(\.tensor) }
        return tensors + objective.contrast.replicatedTensors
    }

    // MARK: - Running

    /// Trains until the configured number of steps, `stopAfter` steps of this call, or `shouldStop` says so; then
    /// validates and writes a final checkpoint.
    @discardableResult
    public func run(stopAfter stepLimit: Int? = nil, shouldStop: () -> Bool = { false }) throws -> ValidationRecord? {
        let total = configuration.run.steps
        guard step < total else { return nil }
        let loader = try makeLoader()
        defer { loader.close() }
        let batchSize = configuration.data.batchSize
        let start = Date()
        let firstStep = step
        var windowStart = Date()
        var windowPairs = 0
        var lastValidation: ValidationRecord?
        // Decided the same way on every rank, so the ranks meet at the same collectives.
        var lastValidatedStep: Int?
        var (samplesTrained, hardNegativesTrained) = (0, 0)
        model.train()
        while step < total, stepLimit.map({ step - firstStep < $0 }) ?? true, try !stopRequested(shouldStop) {
            guard let batch = try loader.next() else {
                throw TrainingError.data("the training loader ran dry at step \(step)")
            }
            let record = try trainStep(try rankSlice(of: batch))
            samplesTrained += batch.count
            hardNegativesTrained += batch.hardNegatives?.count ?? 0
            cursor = batch.cursor
            step += 1
            windowPairs += batchSize
            let now = Date()
            let elapsed = now.timeIntervalSince(start)
            let rate = Double(windowPairs) / Swift.max(now.timeIntervalSince(windowStart), 1e-9)
            if step % configuration.run.logEvery == 0 || step == total {
                var logged = record
                logged.pairsPerSecond = rate
                logged.elapsedSeconds = elapsed
                try metrics.append(logged)
                windowStart = now
                windowPairs = 0
            }
            onProgress?(
                TrainingProgress(
                    step: step, totalSteps: total, loss: record.loss, temperature: record.temperature,
                    pairsPerSecond: Double((step - firstStep) * batchSize) / Swift.max(elapsed, 1e-9),
                    elapsedSeconds: elapsed))
            let validateEvery = configuration.run.validateEvery
            if validateEvery > 0, step % validateEvery == 0, step < total {
                lastValidation = try validateOnFirstRank()
                lastValidatedStep = step
            }
            if step % configuration.run.checkpointEvery == 0 || step == total {
                try saveCheckpoint()
            }
        }
        if configuration.data.hardNegatives, isPrimary {
            let unusable = loader.statistics.hardNegativesUnusable
            var message = "hard negatives: \(hardNegativesTrained) used with \(samplesTrained) samples this run"
            if unusable > 0 { message += ", \(unusable) could not be tokenised" }
            if hardNegativesTrained == 0 {
                message += " — the training records have no hard_negatives, so the loss was the plain in-batch one"
            }
            onMessage?(message)
        }
        if try step == total || stopRequested(shouldStop) {
            if lastValidatedStep != step { lastValidation = try validateOnFirstRank() }
            if savedStep != step { try saveCheckpoint() }
        }
        if isPrimary { try writePlot() }
        try parallelism?.group.barrier()
        return lastValidation
    }

    /// One optimizer step on a batch.
    func trainStep(_ batch: Batch) throws -> StepRecord {
        let learningRate = schedule.learningRate(at: step)
        optimizer.learningRate = learningRate
        parallelism?.group.takeCommunicationFigures()
        try optimizer.zeroGrad()
        var stepRandom = LoaderRandom(seed: configuration.run.seed, stream: .trainingStep, step)
        let seed = stepRandom.next()
        let hardNegatives = batch.hardNegatives.map {
            HardNegativeCaptions(tokenIDs: $0.tokenIDs, attentionMask: $0.attentionMask)
        }
        let output = try objective.accumulateGradients(
            images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask,
            hardNegatives: hardNegatives, step: step, seed: seed)
        guard output.loss.isFinite else {
            throw TrainingError.data("the loss became \(output.loss) at step \(step + 1); lower the learning rate")
        }
        let parameters = objective.trainedModules.flatMap { $0.trainableParameters() }
        let maxNorm = configuration.optimization.gradientClip ?? .infinity
        let norm = try optimizer.prepareGradients(of: parameters, averagingWith: synchroniser, maxNorm: maxNorm)
        try optimizer.step()
        let communication = parallelism.map { $0.group.takeCommunicationFigures() }
        // CLIP keeps the learnable temperature within bounds after each step.
        try withNoGrad {
            let bound = Foundation.log(configuration.model.maximumLogitScale)
            try model.logitScale.copyInPlace(from: model.logitScale.clamped(min: 0, max: bound))
        }
        return StepRecord(
            step: step + 1, loss: output.loss, contrastiveLoss: output.contrastive, imageToTextLoss: output.imageToText,
            textToImageLoss: output.textToImage, maskedLanguageModelLoss: output.maskedLanguageModel,
            temperature: 1 / output.logitScale, learningRate: learningRate, gradientNorm: norm,
            distillation: output.distillation, pairsPerSecond: 0, elapsedSeconds: 0,
            communicationSeconds: communication?.seconds, communicatedBytes: communication?.bytes)
    }

    /// A stop asked for on any rank stops every rank at the same step.
    private func stopRequested(_ shouldStop: () -> Bool) throws -> Bool {
        let local = shouldStop()
        guard let group = parallelism?.group, group.worldSize > 1 else { return local }
        let flag = try Tensor([Int64(local ? 1 : 0)], shape: [1])
        try group.allReduce([flag], .max)
        return try flag.itemInt() > 0
    }

    /// This rank's rows of a batch: the batch itself for a single process or a rank that read its own share, the
    /// rank's slice when every rank reads the global batch.
    func rankSlice(of batch: Batch) throws -> Batch {
        guard let parallelism, parallelism.worldSize > 1, parallelism.rankData == .global else { return batch }
        let rows = batch.count / parallelism.worldSize
        let range = parallelism.rank * rows..<(parallelism.rank + 1) * rows
        var slice = batch
        slice.images = try batch.images.narrowed(dimension: 0, start: range.lowerBound, length: rows)
        slice.tokenIDs = try batch.tokenIDs.narrowed(dimension: 0, start: range.lowerBound, length: rows)
        slice.attentionMask = try batch.attentionMask.narrowed(dimension: 0, start: range.lowerBound, length: rows)
        slice.keys = Array(batch.keys[range])
        slice.captions = Array(batch.captions[range])
        return slice
    }

    private func makeLoader() throws -> DataLoader {
        let data = configuration.data
        let decoder = try ImagingSampleDecoder.training(
            size: configuration.model.image.imageSize, scale: data.cropScale[0]...data.cropScale[1])
        return try DataLoader(
            configuration: try makeLoaderConfiguration(), decoder: decoder, tokenizer: tokenizer, resumingFrom: cursor)
    }

    /// This rank's loader settings.
    func makeLoaderConfiguration() throws -> LoaderConfiguration {
        let data = configuration.data
        let shards = try LoaderConfiguration.discoverShards(in: data.trainShards)
        var loaderConfiguration = LoaderConfiguration(shards: shards)
        loaderConfiguration.batchSize = data.batchSize
        if let parallelism, parallelism.worldSize > 1, parallelism.rankData == .shards {
            loaderConfiguration.batchSize = data.batchSize / parallelism.worldSize
            loaderConfiguration.rank = parallelism.rank
            loaderConfiguration.worldSize = parallelism.worldSize
            loaderConfiguration.rankSplit = shards.count >= parallelism.worldSize ? .shards : .samples
        }
        loaderConfiguration.seed = configuration.run.seed
        loaderConfiguration.shuffleBufferSize = data.shuffleBufferSize
        loaderConfiguration.workerThreads = data.workerThreads
        loaderConfiguration.imageSize = configuration.model.image.imageSize
        loaderConfiguration.maxTextLength = configuration.model.text.maxLength
        loaderConfiguration.caption = .random
        loaderConfiguration.hardNegatives = data.hardNegatives
        loaderConfiguration.dropLast = true
        return loaderConfiguration
    }

    // MARK: - Validation

    /// Validation runs on rank 0 while the other ranks wait at a barrier.
    private func validateOnFirstRank() throws -> ValidationRecord? {
        let record = isPrimary ? try validate() : nil
        try parallelism?.group.barrier()
        return record
    }

    /// Retrieval recall on the validation pairs (and zero-shot accuracy when configured), logged to the metrics.
    @discardableResult
    public func validate() throws -> ValidationRecord? {
        let data = configuration.data
        guard let directory = data.validationShards else { return nil }
        // Evaluation must not disturb the training stream: it draws no random numbers, but keep that true.
        let randomState = try Engine.randomState()
        defer { try? Engine.restoreRandomState(randomState) }
        let set = try validationSet ?? EvaluationSet.load(
            directory: directory, limit: configuration.run.validationPairs,
            imageSize: configuration.model.image.imageSize, maxTextLength: configuration.model.text.maxLength,
            tokenizer: tokenizer)
        validationSet = set
        let embeddings = try set.embed(with: model)
        let recall = try RetrievalMetrics.measure(images: embeddings.images, texts: embeddings.texts)
        var record = ValidationRecord(
            step: step, pairs: recall.images, imageToTextRecall: recall.imageToText,
            textToImageRecall: recall.textToImage, meanRecall: recall.meanRecall)
        if let zeroShotDirectory = data.zeroShotShards {
            let zeroShot = try zeroShotSet ?? ZeroShotSet.load(
                directory: zeroShotDirectory, classesFile: try Self.classesFile(near: zeroShotDirectory),
                limit: configuration.run.validationPairs, imageSize: configuration.model.image.imageSize,
                maxTextLength: configuration.model.text.maxLength, tokenizer: tokenizer)
            zeroShotSet = zeroShot
            record.zeroShotAccuracy = try zeroShot.accuracy(of: model, tokenizer: tokenizer)
            record.zeroShotImages = zeroShot.labels.count
        }
        try metrics.append(record)
        try writePlot()
        onMessage?(Self.describe(record))
        return record
    }

    /// `classes.json` in the zero-shot folder or its parent (where the corpus builder writes it).
    static func classesFile(near directory: String) throws -> String {
        let candidates = [
            (directory as NSString).appendingPathComponent("classes.json"),
            ((directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("classes.json"),
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw TrainingError.data("no classes.json in \(directory) or its parent folder")
        }
        return found
    }

    public static func describe(_ record: ValidationRecord) -> String {
        func percent(_ value: Double?) -> String { String(format: "%.1f", (value ?? 0) * 100) }
        var text = "step \(record.step) validation on \(record.pairs) pairs: image→text R@1/5/10 "
            + "\(percent(record.imageToTextRecall[1]))/\(percent(record.imageToTextRecall[5]))/"
            + "\(percent(record.imageToTextRecall[10])), text→image R@1/5/10 "
            + "\(percent(record.textToImageRecall[1]))/\(percent(record.textToImageRecall[5]))/"
            + "\(percent(record.textToImageRecall[10]))"
        if let accuracy = record.zeroShotAccuracy {
            text += ", zero-shot top-1 \(percent(accuracy))% on \(record.zeroShotImages ?? 0) images"
        }
        return text
    }

    private func writePlot() throws {
        try TrainingPlot.write(
            steps: metrics.steps, validations: metrics.validations,
            to: (outputDirectory as NSString).appendingPathComponent("curves.svg"))
    }
}
