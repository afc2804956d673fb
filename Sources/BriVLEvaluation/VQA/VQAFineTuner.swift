import BriVL
import BriVLData
import Foundation
import Torch
import TorchNN

/// Fine-tunes a BriVL model for contrastive multiple choice (``MultipleChoiceLoss``) on a set of training
/// questions, with AdamW, freezing what the configuration says.
///
/// The model is changed in place. Its learnable temperature is not trained: the loss uses the temperature the model
/// arrived with, so that the fine-tuning cannot lower the loss by sharpening every score alike.
public final class VQAFineTuner {
    public let encoder: MultipleChoiceEncoder
    public let configuration: VQAFineTuningConfiguration
    public let loss: MultipleChoiceLoss
    private let optimizer: AdamW
    private let schedule: WarmupCosineSchedule

    public var model: BriVLModel { encoder.model }

    /// Applies the freezing at once, so that the model's trainable parameters are known before the first step.
    public init(encoder: MultipleChoiceEncoder, configuration: VQAFineTuningConfiguration) throws {
        try configuration.validate()
        self.encoder = encoder
        self.configuration = configuration
        let model = encoder.model
        loss = MultipleChoiceLoss(scale: try model.currentLogitScale())
        try model.logitScale.requiringGrad(false)
        try Self.setTrainableImageBlocks(configuration.trainableImageBlocks, of: model.imageTower)
        try Self.setTrainableTextLayers(configuration.trainableTextLayers, of: model.textTower)
        let groups = ParameterGroup.decayGroups(for: model, weightDecay: configuration.weightDecay)
        guard groups.contains(where: { !$0.parameters.isEmpty }) else {
            throw EvaluationError.invalidArgument("VQA fine-tuning: every parameter is frozen")
        }
        optimizer = try AdamW(groups: groups, learningRate: configuration.learningRate)
        schedule = WarmupCosineSchedule(
            peak: configuration.learningRate, warmupSteps: configuration.steps / 10, totalSteps: configuration.steps)
    }

    /// Freezes all but the last `count` units of the image backbone (nil: none).
    static func setTrainableImageBlocks(_ count: Int?, of tower: ImageTower) throws {
        if let resnet = tower.resnet {
            let stages = resnet.stages.count
            if let count, count > stages {
                throw EvaluationError.invalidArgument(
                    "VQA fine-tuning: the ResNet has \(stages) stages, cannot train the last \(count)")
            }
            try resnet.setFrozenStages(count.map { stages - $0 })
        } else if let vit = tower.vit {
            let layers = vit.transformer.layers
            if let count, count > layers.count {
                throw EvaluationError.invalidArgument(
                    "VQA fine-tuning: the ViT has \(layers.count) blocks, cannot train the last \(count)")
            }
            try vit.freeze(false)
            guard let count else { return }
            if count == 0 { return try vit.freeze() }
            try vit.patchEmbedding.freeze()
            try vit.preNorm.freeze()
            try vit.classEmbedding.requiringGrad(false)
            try vit.positionalEmbedding.requiringGrad(false)
            for layer in layers.prefix(layers.count - count) { try layer.freeze() }
        }
    }

    /// Freezes BERT's embeddings and all but its last `count` layers (nil: all of BERT trains).
    static func setTrainableTextLayers(_ count: Int?, of tower: TextTower) throws {
        let bert = try tower.requireBERT(for: "VQA fine-tuning")
        let layers = bert.encoder.layers.count
        if let count, count > layers {
            throw EvaluationError.invalidArgument(
                "VQA fine-tuning: BERT has \(layers) layers, cannot train the last \(count)")
        }
        try bert.freeze(false)
        if let count { try tower.freezeBERT(keepingLastLayers: count) }
    }

    /// Training mode, with every batch norm back in evaluation mode when they are frozen (the backbone's frozen
    /// stages keep theirs in evaluation mode either way).
    func enterTrainingMode() {
        model.train()
        guard configuration.freezeBatchNorm else { return }
        for (_, module) in model.namedModules() where module is BatchNorm2d { module.eval() }
    }

    /// Runs the configured number of steps over `dataset`, in an order drawn from the seed (a new order each pass).
    ///
    /// - Parameter progress: the step just taken (from 1) and its loss
    /// - Returns: the loss of every step
    @discardableResult
    public func train(on dataset: VQADataset, progress: (Int, Double) -> Void = { _, _ in }) throws -> [Double] {
        enterTrainingMode()
        var losses: [Double] = []
        var order: [Int] = []
        var pass = 0
        var cursor = 0
        for step in 1...configuration.steps {
            var picked: [VQAQuestion] = []
            while picked.count < min(configuration.batchSize, dataset.count) {
                if cursor == order.count {
                    order = Array(dataset.questions.indices)
                    var random = LoaderRandom(seed: configuration.seed, stream: .trainingStep, pass)
                    random.shuffle(&order)
                    pass += 1
                    cursor = 0
                }
                picked.append(dataset.questions[order[cursor]])
                cursor += 1
            }
            optimizer.learningRate = schedule.learningRate(at: step - 1)
            let batch = try encoder.encode(picked, file: dataset.file)
            let value = try loss(
                image: batch.imageEmbeddings, options: batch.optionEmbeddings, answers: batch.answers,
                padding: batch.padding)
            try value.backward()
            if let clip = configuration.gradientClip {
                _ = try clipGradientNorm(optimizer.groups.flatMap(\.parameters), maxNorm: clip)
            }
            try optimizer.step()
            try optimizer.zeroGrad()
            let lossValue = try value.item()
            guard lossValue.isFinite else {
                throw EvaluationError.invalidArgument(
                    "VQA fine-tuning diverged at step \(step) (loss \(lossValue)); lower the learning rate")
            }
            losses.append(lossValue)
            progress(step, lossValue)
        }
        model.eval()
        return losses
    }
}
