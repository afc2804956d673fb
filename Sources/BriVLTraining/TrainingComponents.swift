import BriVL
import Tokenization
import Torch
import TorchNN

/// What a run trains with, built from its configuration: the model (with its frozen parts), the objective, the
/// optimizer over the objective's trained modules, the learning-rate schedule, and the generator every dropout
/// of the objective draws from.
struct TrainingComponents {
    let model: BriVLModel
    let objective: PretrainingObjective
    let optimizer: any Optimizer
    let schedule: WarmupCosineSchedule
    let dropout: Generator

    /// The dropout generator's seed for a rank (rank 0 of a job draws what a single process would).
    static func dropoutSeed(runSeed: UInt64, rank: Int = 0, step: Int = 0) -> UInt64 {
        let stream: UInt64 = 0xD809_0E47_5EED_0001
        guard rank > 0 else { return runSeed ^ stream }
        return runSeed ^ stream ^ (UInt64(rank) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(step)
    }

    /// Everything random at start-up draws from generators seeded by the run's seed, so a seed fixes the
    /// initialisation. `initialWeights` (a warm start) replace the model's drawn weights before anything copies
    /// them: the momentum towers start from them too.
    init(
        configuration: TrainingConfiguration, tokenizer: BertTokenizer, parallelism: DataParallelism?,
        initialWeights: [String: Tensor]? = nil
    ) throws {
        Engine.seed(configuration.run.seed)
        let initialization = try Generator(seed: configuration.run.seed)
        model = try BriVLModel(configuration.model, generator: initialization)
        if let initialWeights {
            do { try model.load(stateDict: initialWeights) } catch {
                throw TrainingError.invalidConfiguration(
                    "the weights of --init-from \(configuration.run.initFrom ?? "") do not fit the model: \(error)")
            }
        }
        let settings = configuration.optimization
        if let frozen = settings.frozenImageStages { try model.imageTower.resnet?.setFrozenStages(frozen) }
        if let layers = settings.trainableTextLayers { try model.textTower.freezeBERT(keepingLastLayers: layers) }
        objective = try PretrainingObjective(
            model: model, configuration: configuration.objective, batchSize: configuration.data.batchSize,
            masking: MaskingVocabulary(
                maskID: tokenizer.maskID,
                specialIDs: [tokenizer.classificationID, tokenizer.separatorID, tokenizer.paddingID],
                size: tokenizer.vocabulary.count),
            generator: initialization)
        objective.processGroup = parallelism?.group
        dropout = try Generator(seed: Self.dropoutSeed(runSeed: configuration.run.seed))
        objective.drawDropout(from: dropout)
        let groups = objective.trainedModules.flatMap {
            ParameterGroup.decayGroups(for: $0, weightDecay: settings.weightDecay)
        }
        if let parallelism, parallelism.shardOptimizerState, parallelism.worldSize > 1 {
            optimizer = try ShardedAdamW(
                groups: groups, processGroup: parallelism.group, learningRate: settings.learningRate,
                betas: (settings.beta1, settings.beta2), eps: settings.eps)
        } else {
            optimizer = try AdamW(
                groups: groups, learningRate: settings.learningRate, betas: (settings.beta1, settings.beta2),
                eps: settings.eps)
        }
        schedule = WarmupCosineSchedule(
            peak: settings.learningRate, warmupSteps: settings.warmupSteps, totalSteps: configuration.run.steps)
    }
}
