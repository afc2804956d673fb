import BriVL
import Tokenization
import Torch
import TorchNN

/// What a run trains with, built from its configuration: the model (with its frozen parts), the objective, the
/// optimizer over the objective's trained modules, and the learning-rate schedule.
struct TrainingComponents {
    let model: BriVLModel
    let objective: PretrainingObjective
    let optimizer: any Optimizer
    let schedule: WarmupCosineSchedule

    /// Everything random at start-up draws from generators seeded by the run's seed, so a seed fixes the
    /// initialisation.
    init(configuration: TrainingConfiguration, tokenizer: BertTokenizer, parallelism: DataParallelism?) throws {
        Engine.seed(configuration.run.seed)
        let initialization = try Generator(seed: configuration.run.seed)
        model = try BriVLModel(configuration.model, generator: initialization)
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
