/// What the model is trained to do: which contrastive loss, with which temperature, and which extras.
public struct ObjectiveConfiguration: Codable, Sendable, Equatable {
    public enum Contrast: String, Codable, Sendable {
        /// CLIP's in-batch InfoNCE: every other pair of the batch is a negative.
        case inBatch = "in_batch"
        /// BriVL's MoCo: momentum keys as positives, queues of earlier keys as negatives.
        case momentum
    }

    public var contrast: Contrast
    /// Learn τ (as CLIP does) or keep it at ``fixedTemperature`` (BriVL's MoCo: 0.07).
    public var learnableTemperature: Bool
    public var fixedTemperature: Double
    /// m of the momentum towers' moving average (BriVL: 0.99).
    public var momentum: Double
    /// K, keys per queue; a multiple of the batch size (BriVL: 9600).
    public var queueSize: Int
    /// Score queries against the batch's other momentum keys too (ALBEF), not only the queue (BriVL).
    public var batchNegatives: Bool
    /// α of momentum distillation (ALBEF: 0.4); 0 turns it off. Needs the momentum contrast.
    public var distillation: Double
    /// Steps over which α ramps linearly from 0 to ``distillation`` (the momentum towers are poor teachers early).
    public var distillationWarmupSteps: Int
    /// Weight of the masked-language-model loss on the text tower; 0 turns it off.
    public var maskedLanguageModelWeight: Double
    public var maskingProbability: Double
    /// Encode the batch in chunks of this many pairs with a gradient cache (nil: the whole batch at once).
    public var gradientCacheChunk: Int?

    enum CodingKeys: String, CodingKey {
        case contrast
        case learnableTemperature = "learnable_temperature"
        case fixedTemperature = "fixed_temperature"
        case momentum
        case queueSize = "queue_size"
        case batchNegatives = "batch_negatives"
        case distillation
        case distillationWarmupSteps = "distillation_warmup_steps"
        case maskedLanguageModelWeight = "masked_language_model_weight"
        case maskingProbability = "masking_probability"
        case gradientCacheChunk = "gradient_cache_chunk"
    }

    public init(
        contrast: Contrast = .momentum, learnableTemperature: Bool = true, fixedTemperature: Double = 0.07,
        momentum: Double = 0.99, queueSize: Int = 4096, batchNegatives: Bool = false, distillation: Double = 0, distillationWarmupSteps: Int = 0,
        maskedLanguageModelWeight: Double = 0, maskingProbability: Double = 0.15, gradientCacheChunk: Int? = nil
    ) {
        self.contrast = contrast
        self.learnableTemperature = learnableTemperature
        self.fixedTemperature = fixedTemperature
        self.momentum = momentum
        self.queueSize = queueSize
        self.batchNegatives = batchNegatives
        self.distillation = distillation
        self.distillationWarmupSteps = distillationWarmupSteps
        self.maskedLanguageModelWeight = maskedLanguageModelWeight
        self.maskingProbability = maskingProbability
        self.gradientCacheChunk = gradientCacheChunk
    }

    /// CLIP's recipe: in-batch loss, learnable temperature.
    public static let clip = ObjectiveConfiguration(contrast: .inBatch)

    /// BriVL's recipe with ALBEF's distillation: MoCo queues, m = 0.99, α = 0.4.
    public static let brivl = ObjectiveConfiguration(
        contrast: .momentum, momentum: 0.99, distillation: 0.4, distillationWarmupSteps: 1000)

    /// α at a step (the linear ramp).
    public func distillationWeight(atStep step: Int) -> Double {
        guard distillation > 0 else { return 0 }
        guard distillationWarmupSteps > 0 else { return distillation }
        return distillation * Swift.min(1, Double(step) / Double(distillationWarmupSteps))
    }

    /// Checks the settings against the batch size they will train with.
    public func validate(batchSize: Int) throws {
        guard batchSize > 0 else { throw ModelError.invalidConfiguration("the batch size must be positive") }
        guard fixedTemperature > 0 else { throw ModelError.invalidConfiguration("fixed_temperature must be positive") }
        guard (0...1).contains(distillation), (0...1).contains(maskingProbability), maskedLanguageModelWeight >= 0 else {
            throw ModelError.invalidConfiguration(
                "distillation and masking_probability must be in [0, 1] and the MLM weight non-negative")
        }
        if contrast == .momentum {
            guard (0...1).contains(momentum) else {
                throw ModelError.invalidConfiguration("momentum \(momentum) is not in [0, 1]")
            }
            guard queueSize > 0, queueSize % batchSize == 0 else {
                throw ModelError.invalidConfiguration(
                    "queue_size \(queueSize) must be a positive multiple of the batch size \(batchSize)")
            }
        } else if distillation > 0 {
            throw ModelError.invalidConfiguration("momentum distillation needs the momentum contrast")
        }
        if let chunk = gradientCacheChunk, chunk <= 0 {
            throw ModelError.invalidConfiguration("gradient_cache_chunk must be positive")
        }
    }
}
