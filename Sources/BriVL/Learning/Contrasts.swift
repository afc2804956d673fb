import Torch
import TorchNN

/// What a contrast sees of a step before the towers run: this rank's rows and how they are encoded.
public struct ContrastBatch {
    public var images: Tensor
    public var tokenIDs: Tensor
    public var attentionMask: Tensor
    /// Pairs encoded at once (the gradient cache's chunk); nil: the whole batch.
    public var chunkSize: Int?
    /// The data-parallel group whose batches are slices of one global batch; nil: one process.
    public var group: ProcessGroup?

    public init(images: Tensor, tokenIDs: Tensor, attentionMask: Tensor, chunkSize: Int? = nil, group: ProcessGroup? = nil) {
        self.images = images
        self.tokenIDs = tokenIDs
        self.attentionMask = attentionMask
        self.chunkSize = chunkSize
        self.group = group
    }

    /// The row ranges the towers see one after the other.
    var chunks: [Range<Int>] {
        let batch = images.size(0)
        guard let chunkSize, chunkSize < batch else { return [0..<batch] }
        return GradientCache.chunks(of: batch, size: chunkSize)
    }
}

/// One step's contrastive loss, ready for the embeddings of the step's batch.
public struct StepContrast {
    /// α of momentum distillation this step (0: none).
    public let distillation: Double
    private let loss: (_ image: Tensor, _ text: Tensor, _ hardNegatives: Tensor?) throws -> ContrastiveLossOutput
    private let completion: () throws -> Void

    init(
        distillation: Double = 0,
        loss: @escaping (_ image: Tensor, _ text: Tensor, _ hardNegatives: Tensor?) throws -> ContrastiveLossOutput,
        completion: @escaping () throws -> Void = {}
    ) {
        self.distillation = distillation
        self.loss = loss
        self.completion = completion
    }

    /// The loss of the batch's embeddings ([batch, dim] each; the global batch in a data-parallel job), with the
    /// embeddings of the batch's hard negative captions when there are any.
    public func callAsFunction(image: Tensor, text: Tensor, hardNegatives: Tensor? = nil) throws -> ContrastiveLossOutput {
        try loss(image, text, hardNegatives)
    }

    /// Called once after the backward pass: keeps what the step leaves for the next (the momentum contrast
    /// enqueues the step's keys, so a batch never meets its own keys among the negatives).
    public func complete() throws { try completion() }
}

/// What a checkpoint holds of a contrast beside the model.
public struct ContrastCheckpoint {
    /// Named groups of tensors (`momentum`: the momentum towers, `queues`: the key queues).
    public var tensors: [String: [String: Tensor]]
    /// Where each queue writes next.
    public var queuePositions: (image: Int, text: Int)?

    public init(tensors: [String: [String: Tensor]] = [:], queuePositions: (image: Int, text: Int)? = nil) {
        self.tensors = tensors
        self.queuePositions = queuePositions
    }
}

/// A contrastive loss with whatever it keeps from step to step.
public protocol ContrastiveObjective: AnyObject {
    /// Gets ready for one step's batch (the momentum contrast follows the trained towers and encodes the keys).
    func prepare(_ batch: ContrastBatch, step: Int) throws -> StepContrast
    /// What the contrast keeps beside the model, which every rank of a data-parallel job must hold identically.
    var replicatedTensors: [Tensor] { get }
    /// The state a checkpoint saves.
    func checkpoint() -> ContrastCheckpoint
    /// Restores a state ``checkpoint()`` made; throws when a part this contrast needs is missing.
    func restore(_ checkpoint: ContrastCheckpoint) throws
    /// Points the dropout of the modules the contrast keeps (the momentum towers) at `generator`.
    func drawDropout(from generator: Generator?)
}

/// CLIP's in-batch contrast: every other pair of the batch is a negative; nothing is kept between steps.
public final class InBatchContrast: ContrastiveObjective {
    let model: BriVLModel
    let loss: InBatchContrastiveLoss

    public init(model: BriVLModel) {
        self.model = model
        loss = InBatchContrastiveLoss(maximumScale: model.configuration.maximumLogitScale)
    }

    public func prepare(_ batch: ContrastBatch, step: Int) throws -> StepContrast {
        StepContrast { [model, loss] image, text, hardNegatives in
            try loss(image: image, text: text, logScale: model.logitScale, hardNegatives: hardNegatives)
        }
    }

    public var replicatedTensors: [Tensor] { [] }
    public func checkpoint() -> ContrastCheckpoint { ContrastCheckpoint() }
    public func restore(_ checkpoint: ContrastCheckpoint) throws {}
    public func drawDropout(from generator: Generator?) {}
}

/// BriVL's momentum contrast (MoCo): momentum copies of both towers give each pair's keys, and queues of earlier
/// steps' keys are the negatives.
///
/// MoCo's order is kept: the momentum towers first follow the trained towers (EMA), then encode the batch's keys;
/// after the backward pass the keys are enqueued. In a data-parallel job the keys are gathered from every rank,
/// so every rank enqueues the same global keys.
public final class MomentumContrast: ContrastiveObjective {
    public let settings: MomentumContrastConfiguration
    public let towers: MomentumTowers
    public let imageQueue: KeyQueue
    public let textQueue: KeyQueue
    let model: BriVLModel
    let loss: MomentumContrastiveLoss

    public init(model: BriVLModel, settings: MomentumContrastConfiguration, generator: Generator? = nil) throws {
        self.settings = settings
        self.model = model
        towers = try MomentumTowers(copying: model)
        // Queues live with the model: same device, same precision.
        let (device, dtype) = (model.logitScale.device, model.logitScale.dtype)
        func queue() throws -> KeyQueue {
            let fresh = try KeyQueue(
                capacity: settings.queueSize, dimension: model.configuration.embeddingSize, generator: generator)
            return try KeyQueue(keys: fresh.keys.to(device: device, dtype: dtype), position: 0)
        }
        imageQueue = try queue()
        textQueue = try queue()
        loss = try MomentumContrastiveLoss(
            temperature: settings.fixedTemperature, maximumScale: model.configuration.maximumLogitScale,
            batchNegatives: settings.batchNegatives)
    }

    public func prepare(_ batch: ContrastBatch, step: Int) throws -> StepContrast {
        try towers.update(from: model, momentum: settings.momentum)
        var keys = try encodeKeys(batch)
        if let group = batch.group, group.worldSize > 1 {
            keys = (try group.allGather(keys.image), try group.allGather(keys.text))
        }
        let alpha = settings.distillationWeight(atStep: step)
        let logScale = settings.learnableTemperature ? model.logitScale : nil
        let (imageQueue, textQueue, loss) = (imageQueue, textQueue, loss)
        return StepContrast(
            distillation: alpha,
            loss: { image, text, hardNegatives in
                guard hardNegatives == nil else {
                    throw ModelError.invalidConfiguration("hard negatives work with the in-batch loss only, not MoCo")
                }
                // The queues change in place after the backward pass; the graph keeps copies of what it used.
                return try loss(
                    imageQueries: image, textQueries: text, imageKeys: keys.image, textKeys: keys.text,
                    imageQueue: imageQueue.keys.clone(), textQueue: textQueue.keys.clone(), logScale: logScale,
                    distillation: alpha)
            },
            completion: {
                try imageQueue.enqueue(keys.image)
                try textQueue.enqueue(keys.text)
            })
    }

    /// The batch's keys, chunk by chunk when the towers see the batch in chunks.
    private func encodeKeys(_ batch: ContrastBatch) throws -> (image: Tensor, text: Tensor) {
        let chunks = batch.chunks
        guard chunks.count > 1 else {
            return try towers.keys(images: batch.images, tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask)
        }
        var imageKeys: [Tensor] = []
        var textKeys: [Tensor] = []
        for range in chunks {
            let keys = try towers.keys(
                images: batch.images.rows(range), tokenIDs: batch.tokenIDs.rows(range),
                attentionMask: batch.attentionMask.rows(range))
            imageKeys.append(keys.image)
            textKeys.append(keys.text)
        }
        return (try Tensor.cat(imageKeys), try Tensor.cat(textKeys))
    }

    public var replicatedTensors: [Tensor] { towers.stateDict().map(\.tensor) + [imageQueue.keys, textQueue.keys] }

    public func drawDropout(from generator: Generator?) { towers.drawDropout(from: generator) }

    public func checkpoint() -> ContrastCheckpoint {
        ContrastCheckpoint(
            tensors: [
                "momentum": Dictionary(uniqueKeysWithValues: towers.stateDict()),
                "queues": ["image_keys": imageQueue.keys, "text_keys": textQueue.keys],
            ],
            queuePositions: (imageQueue.position, textQueue.position))
    }

    public func restore(_ checkpoint: ContrastCheckpoint) throws {
        guard let momentum = checkpoint.tensors["momentum"], let queues = checkpoint.tensors["queues"],
            let imageKeys = queues["image_keys"], let textKeys = queues["text_keys"],
            let positions = checkpoint.queuePositions
        else { throw ModelError.invalidInput("the checkpoint lacks the momentum towers or the MoCo queues") }
        try towers.load(stateDict: momentum)
        try imageQueue.restore(keys: imageKeys, position: positions.image)
        try textQueue.restore(keys: textKeys, position: positions.text)
    }
}
