import Foundation
import Torch
import TorchNN

/// The figures of one step's objective.
public struct ObjectiveMetrics: Sendable, Equatable {
    /// The minimised total.
    public var loss: Double
    public var contrastive: Double
    public var imageToText: Double
    public var textToImage: Double
    /// The MLM loss (nil when MLM is off or no token was masked).
    public var maskedLanguageModel: Double?
    /// 1/τ used this step.
    public var logitScale: Double
    /// α used this step.
    public var distillation: Double
}

/// The token ids MLM needs from the tokenizer's vocabulary.
public struct MaskingVocabulary: Sendable {
    public var maskID: Int
    /// Never masked: [CLS], [SEP], [PAD] and the like.
    public var specialIDs: Set<Int>
    public var size: Int

    public init(maskID: Int, specialIDs: Set<Int>, size: Int) {
        self.maskID = maskID
        self.specialIDs = specialIDs
        self.size = size
    }
}

/// Captions that are false of the batch's images, tokenised like its captions: extra image→text negatives of the
/// in-batch loss (see ``InBatchContrastiveLoss``).
public struct HardNegativeCaptions {
    /// - Shape: [negatives, length], int64.
    public var tokenIDs: Tensor
    /// - Shape: [negatives, length], int64.
    public var attentionMask: Tensor

    public init(tokenIDs: Tensor, attentionMask: Tensor) {
        self.tokenIDs = tokenIDs
        self.attentionMask = attentionMask
    }
}

/// One batch's pretraining objective: a contrastive loss (``InBatchContrast`` or ``MomentumContrast``) plus
/// optional MLM, with gradients left on the parameters for the optimizer.
///
/// With ``ObjectiveConfiguration/gradientCacheChunk`` set, the towers see the batch in chunks (see
/// ``GradientCache``) and the parameter gradients equal those of the whole batch at once.
///
/// With a ``processGroup`` of several ranks, the batch given is this rank's slice of the global batch. The loss
/// is the global batch's loss on every rank: embeddings are gathered from all ranks (this rank's rows keep their
/// graph, see ``GradientCache``), MoCo keys are gathered and every rank enqueues the same global keys. The
/// gradients left on the parameters are this rank's share; their mean over the ranks (`GradientSynchroniser` in
/// training) is the gradient of the global batch. Batch normalisation is local: each rank normalises its slice, as
/// BriVL's per-GPU batch norm does. MLM masks are drawn per rank and its loss averaged over ranks.
public final class PretrainingObjective {
    public let configuration: ObjectiveConfiguration
    public let model: BriVLModel
    /// The contrastive loss and the state it keeps between steps.
    public let contrast: any ContrastiveObjective
    public let maskedLanguageModelHead: MaskedLanguageModelHead?
    let masking: MaskingVocabulary?
    /// The data-parallel group this objective's batches are slices for; nil or one rank: the batch is global.
    public var processGroup: ProcessGroup?

    public init(
        model: BriVLModel, configuration: ObjectiveConfiguration, batchSize: Int, masking: MaskingVocabulary? = nil,
        generator: Generator? = nil
    ) throws {
        try configuration.validate(batchSize: batchSize)
        self.configuration = configuration
        self.model = model
        switch configuration.contrast {
        case .inBatch:
            contrast = InBatchContrast(model: model)
        case .momentum(let settings):
            contrast = try MomentumContrast(model: model, settings: settings, generator: generator)
        }
        if configuration.maskedLanguageModelWeight > 0 {
            guard let masking else {
                throw ModelError.invalidConfiguration("MLM needs the tokenizer's [MASK] and special token ids")
            }
            let bert = try model.configuration.text.requireBERT(for: "masked language modelling")
            guard masking.size == bert.vocabularySize else {
                throw ModelError.invalidConfiguration(
                    "the tokenizer has \(masking.size) entries but the text encoder \(bert.vocabularySize)")
            }
            let head = try MaskedLanguageModelHead(
                hiddenSize: bert.hiddenSize, vocabularySize: bert.vocabularySize, layerNormEps: bert.layerNormEps,
                generator: generator)
            try head.to(device: model.logitScale.device, dtype: model.logitScale.dtype)
            maskedLanguageModelHead = head
        } else {
            maskedLanguageModelHead = nil
        }
        self.masking = masking
    }

    /// Makes the dropout of every module the objective runs (the model, the MLM head, the momentum towers) draw
    /// from `generator` instead of the engine's global generator.
    public func drawDropout(from generator: Generator?) {
        for module in trainedModules { module.drawDropout(from: generator) }
        contrast.drawDropout(from: generator)
    }

    /// The momentum contrast, when the objective uses it.
    public var momentumContrast: MomentumContrast? { contrast as? MomentumContrast }

    /// The modules whose parameters the optimizer updates (the model, and the MLM head when MLM is on).
    public var trainedModules: [Module] { [model] + (maskedLanguageModelHead.map { [$0] } ?? []) }

    /// Runs forward and backward for one batch; gradients accumulate on the parameters.
    /// - Parameters:
    ///   - step: the optimizer step this batch belongs to (ramps α)
    ///   - seed: draws of this step (MLM masking); the same seed gives the same masks
    ///   - hardNegatives: extra image→text negatives (in-batch loss, one process, whole batch at once)
    public func accumulateGradients(
        images: Tensor, tokenIDs: Tensor, attentionMask: Tensor, hardNegatives: HardNegativeCaptions? = nil,
        step: Int, seed: UInt64
    ) throws -> ObjectiveMetrics {
        let batch = images.size(0)
        guard tokenIDs.size(0) == batch, attentionMask.shape == tokenIDs.shape else {
            throw ModelError.invalidInput(
                "images \(images.shape), token ids \(tokenIDs.shape) and mask \(attentionMask.shape) disagree")
        }
        if let hardNegatives {
            guard hardNegatives.tokenIDs.rank == 2, hardNegatives.tokenIDs.size(1) == tokenIDs.size(1),
                hardNegatives.attentionMask.shape == hardNegatives.tokenIDs.shape
            else {
                throw ModelError.invalidInput(
                    "hard negatives \(hardNegatives.tokenIDs.shape) (mask \(hardNegatives.attentionMask.shape)) must "
                        + "be [negatives, \(tokenIDs.size(1))] like the captions")
            }
        }
        let group = processGroup.flatMap { $0.worldSize > 1 ? $0 : nil }
        let stepContrast = try contrast.prepare(
            ContrastBatch(
                images: images, tokenIDs: tokenIDs, attentionMask: attentionMask,
                chunkSize: configuration.gradientCacheChunk, group: group),
            step: step)
        // Each rank masks its own rows; rank 0 draws what a single process would.
        let maskSeed = group.map { seed ^ (UInt64($0.rank) &* 0x9E37_79B9_7F4A_7C15) } ?? seed
        let masked = try drawMasks(tokenIDs: tokenIDs, attentionMask: attentionMask, seed: maskSeed)

        let pass: (contrastive: ContrastiveLossOutput, maskedLanguageModel: Double?)
        if group != nil || (configuration.gradientCacheChunk.map { $0 < batch } ?? false) {
            guard hardNegatives == nil else {
                throw ModelError.invalidConfiguration(
                    "hard negatives need the whole batch in one pass: no gradient cache chunks, one process")
            }
            pass = try chunkedPass(
                images: images, tokenIDs: tokenIDs, attentionMask: attentionMask, masked: masked, group: group,
                contrast: stepContrast)
        } else {
            pass = try wholeBatchPass(
                images: images, tokenIDs: tokenIDs, attentionMask: attentionMask, hardNegatives: hardNegatives,
                masked: masked, contrast: stepContrast)
        }
        try stepContrast.complete()
        let contrastive = pass.contrastive
        let contrastiveValue = try contrastive.loss.item() as Double
        return ObjectiveMetrics(
            loss: contrastiveValue + (pass.maskedLanguageModel ?? 0) * configuration.maskedLanguageModelWeight,
            contrastive: contrastiveValue, imageToText: try contrastive.imageToText.item(),
            textToImage: try contrastive.textToImage.item(), maskedLanguageModel: pass.maskedLanguageModel,
            logitScale: contrastive.scale, distillation: stepContrast.distillation)
    }

    // MARK: - Parts

    /// Forward and backward over the whole batch at once.
    private func wholeBatchPass(
        images: Tensor, tokenIDs: Tensor, attentionMask: Tensor, hardNegatives: HardNegativeCaptions?,
        masked: MaskedTokens?, contrast: StepContrast
    ) throws -> (contrastive: ContrastiveLossOutput, maskedLanguageModel: Double?) {
        let image = try model.encodeImage(images)
        let contrastive: ContrastiveLossOutput
        if let hardNegatives {
            // One text-tower pass over captions and foils together.
            let batch = tokenIDs.size(0)
            let texts = try model.encodeText(
                tokenIDs: Tensor.cat([tokenIDs, hardNegatives.tokenIDs]),
                attentionMask: Tensor.cat([attentionMask, hardNegatives.attentionMask]))
            let parts = try texts.split(sizes: [batch, texts.size(0) - batch])
            contrastive = try contrast(image: image, text: parts[0], hardNegatives: parts[1])
        } else {
            let text = try model.encodeText(tokenIDs: tokenIDs, attentionMask: attentionMask)
            contrastive = try contrast(image: image, text: text)
        }
        var total = contrastive.loss
        var mlmLoss: Double?
        if let masked {
            let loss = try maskedLanguageModelLoss(masked, rows: 0..<images.size(0))
            mlmLoss = try loss.item()
            total = try total + loss * configuration.maskedLanguageModelWeight
        }
        try total.backward()
        return (contrastive, mlmLoss)
    }

    /// Forward and backward chunk by chunk through a gradient cache, over the global batch of a data-parallel job.
    private func chunkedPass(
        images: Tensor, tokenIDs: Tensor, attentionMask: Tensor, masked: MaskedTokens?, group: ProcessGroup?,
        contrast: StepContrast
    ) throws -> (contrastive: ContrastiveLossOutput, maskedLanguageModel: Double?) {
        let batch = images.size(0)
        let cache = GradientCache(
            chunkSize: Swift.min(configuration.gradientCacheChunk ?? batch, batch),
            embeddingGradientScale: Double(group?.worldSize ?? 1))
        var contrastive: ContrastiveLossOutput?
        let mlm = try cache.accumulate(
            batchSize: batch,
            encoders: [
                { range, _ in (try self.model.encodeImage(images.rows(range)), nil) },
                { range, extras in
                    let embedding = try self.model.encodeText(
                        tokenIDs: tokenIDs.rows(range), attentionMask: attentionMask.rows(range))
                    guard extras, let masked else { return (embedding, nil) }
                    let extra = try self.maskedLanguageModelLoss(masked, rows: range)
                    return (embedding, try extra * self.configuration.maskedLanguageModelWeight)
                },
            ],
            buffersOf: [model],
            loss: { local in
                let embeddings = try group.map { group in try local.map { try group.gatherKeepingLocalGraph($0) } } ?? local
                let output = try contrast(image: embeddings[0], text: embeddings[1])
                contrastive = output
                return output.loss
            })
        guard let contrastive else { throw ModelError.invalidInput("the gradient cache never computed the loss") }
        return (contrastive, masked != nil ? mlm / configuration.maskedLanguageModelWeight : nil)
    }

    private func drawMasks(tokenIDs: Tensor, attentionMask: Tensor, seed: UInt64) throws -> MaskedTokens? {
        guard maskedLanguageModelHead != nil, let masking else { return nil }
        let masked = try MaskedTokens.draw(
            tokenIDs: tokenIDs, attentionMask: attentionMask, maskID: masking.maskID, vocabularySize: masking.size,
            specialIDs: masking.specialIDs, probability: configuration.maskingProbability, seed: seed)
        return masked.count > 0 ? masked : nil
    }

    /// The MLM cross-entropy of the masked positions falling in `rows`, summed and divided by the batch's total
    /// number of masked positions, so chunks add up to the batch mean.
    private func maskedLanguageModelLoss(_ masked: MaskedTokens, rows: Range<Int>) throws -> Tensor {
        guard let head = maskedLanguageModelHead else { throw ModelError.invalidConfiguration("MLM is off") }
        let length = masked.tokenIDs.size(1)
        let positions = try masked.positions.to(device: .cpu).toArray(Int64.self)
        let lower = Int64(rows.lowerBound * length)
        let upper = Int64(rows.upperBound * length)
        let selected = positions.indices.filter { positions[$0] >= lower && positions[$0] < upper }
        let device = masked.tokenIDs.device
        guard !selected.isEmpty else { return try Tensor.zeros([], device: device) }
        let local = try Tensor(selected.map { positions[$0] - lower }, shape: [selected.count]).to(device: device)
        let labels = try masked.labels.indexSelect(
            dimension: 0, index: Tensor(selected.map { Int64($0) }, shape: [selected.count]).to(device: device))
        let bert = try model.textTower.requireBERT(for: "masked language modelling")
        let hidden = try bert(masked.tokenIDs.rows(rows), attentionMask: masked.attentionMask.rows(rows))
            .lastHiddenState
        let states = try hidden.reshaped([-1, hidden.size(2)]).indexSelect(dimension: 0, index: local)
        let logits = try head(states, wordEmbeddings: bert.embeddings.wordEmbeddings.weight)
        let sum = try Functional.crossEntropy(logits: logits, targets: labels, reduction: .sum)
        return try sum / Double(masked.count)
    }
}

extension Tensor {
    /// Rows `range` of the first dimension (a view).
    func rows(_ range: Range<Int>) throws -> Tensor {
        try narrowed(dimension: 0, start: range.lowerBound, length: range.count)
    }
}
