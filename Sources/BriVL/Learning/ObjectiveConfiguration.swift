/// What the model is trained to do: which contrastive loss and which extras.
public struct ObjectiveConfiguration: Sendable, Equatable {
    /// The contrastive loss; the momentum contrast carries the settings only it has.
    public enum Contrast: Sendable, Equatable {
        /// CLIP's in-batch InfoNCE with a learnable temperature: every other pair of the batch is a negative.
        case inBatch
        /// BriVL's MoCo: momentum keys as positives, queues of earlier keys as negatives.
        case momentum(MomentumContrastConfiguration)

        /// The name files and logs use.
        public var name: String {
            switch self {
            case .inBatch: return "in_batch"
            case .momentum: return "momentum"
            }
        }

        /// The momentum settings, when this is the momentum contrast.
        public var momentumSettings: MomentumContrastConfiguration? {
            if case .momentum(let settings) = self { return settings }
            return nil
        }
    }

    public var contrast: Contrast
    /// Weight of the masked-language-model loss on the text tower; 0 turns it off.
    public var maskedLanguageModelWeight: Double
    public var maskingProbability: Double
    /// Encode the batch in chunks of this many pairs with a gradient cache (nil: the whole batch at once).
    public var gradientCacheChunk: Int?

    public init(
        contrast: Contrast = .momentum(MomentumContrastConfiguration()), maskedLanguageModelWeight: Double = 0,
        maskingProbability: Double = 0.15, gradientCacheChunk: Int? = nil
    ) {
        self.contrast = contrast
        self.maskedLanguageModelWeight = maskedLanguageModelWeight
        self.maskingProbability = maskingProbability
        self.gradientCacheChunk = gradientCacheChunk
    }

    /// CLIP's recipe: in-batch loss, learnable temperature.
    public static let clip = ObjectiveConfiguration(contrast: .inBatch)

    /// BriVL's MoCo recipe: queues of 4,096 keys, m = 0.99, no distillation.
    public static let moco = ObjectiveConfiguration(contrast: .momentum(MomentumContrastConfiguration()))

    /// BriVL's recipe with ALBEF's distillation: MoCo queues, m = 0.99, α = 0.4.
    public static let brivl = ObjectiveConfiguration(
        contrast: .momentum(MomentumContrastConfiguration(distillation: 0.4, distillationWarmupSteps: 1000)))

    /// α at a step (0 without the momentum contrast).
    public func distillationWeight(atStep step: Int) -> Double {
        contrast.momentumSettings?.distillationWeight(atStep: step) ?? 0
    }

    /// Checks the settings against the batch size they will train with.
    public func validate(batchSize: Int) throws {
        guard batchSize > 0 else { throw ModelError.invalidConfiguration("the batch size must be positive") }
        guard (0...1).contains(maskingProbability), maskedLanguageModelWeight >= 0 else {
            throw ModelError.invalidConfiguration("masking_probability must be in [0, 1] and the MLM weight non-negative")
        }
        try contrast.momentumSettings?.validate(batchSize: batchSize)
        if let chunk = gradientCacheChunk, chunk <= 0 {
            throw ModelError.invalidConfiguration("gradient_cache_chunk must be positive")
        }
    }
}

/// The settings of BriVL's momentum contrast (MoCo with queues, optionally ALBEF's distillation).
public struct MomentumContrastConfiguration: Sendable, Equatable {
    /// Learn τ (as CLIP does) or keep it at ``fixedTemperature`` (BriVL's MoCo: 0.07).
    public var learnableTemperature: Bool
    public var fixedTemperature: Double
    /// m of the momentum towers' moving average (BriVL: 0.99).
    public var momentum: Double
    /// K, keys per queue; a multiple of the batch size (BriVL: 9600).
    public var queueSize: Int
    /// Score queries against the batch's other momentum keys too (ALBEF), not only the queue (BriVL).
    public var batchNegatives: Bool
    /// α of momentum distillation (ALBEF: 0.4); 0 turns it off.
    public var distillation: Double
    /// Steps over which α ramps linearly from 0 to ``distillation`` (the momentum towers are poor teachers early).
    public var distillationWarmupSteps: Int

    public init(
        learnableTemperature: Bool = true, fixedTemperature: Double = 0.07, momentum: Double = 0.99,
        queueSize: Int = 4096, batchNegatives: Bool = false, distillation: Double = 0, distillationWarmupSteps: Int = 0
    ) {
        self.learnableTemperature = learnableTemperature
        self.fixedTemperature = fixedTemperature
        self.momentum = momentum
        self.queueSize = queueSize
        self.batchNegatives = batchNegatives
        self.distillation = distillation
        self.distillationWarmupSteps = distillationWarmupSteps
    }

    /// α at a step (the linear ramp).
    public func distillationWeight(atStep step: Int) -> Double {
        guard distillation > 0 else { return 0 }
        guard distillationWarmupSteps > 0 else { return distillation }
        return distillation * Swift.min(1, Double(step) / Double(distillationWarmupSteps))
    }

    public func validate(batchSize: Int) throws {
        guard fixedTemperature > 0 else { throw ModelError.invalidConfiguration("fixed_temperature must be positive") }
        guard (0...1).contains(distillation) else {
            throw ModelError.invalidConfiguration("distillation \(distillation) is not in [0, 1]")
        }
        guard (0...1).contains(momentum) else {
            throw ModelError.invalidConfiguration("momentum \(momentum) is not in [0, 1]")
        }
        guard queueSize > 0, queueSize % batchSize == 0 else {
            throw ModelError.invalidConfiguration(
                "queue_size \(queueSize) must be a positive multiple of the batch size \(batchSize)")
        }
    }
}

// MARK: - JSON

/// The JSON keeps the flat layout every run so far was written with: `contrast` names the loss and the momentum
/// settings sit beside it. An in-batch objective is written without them; the ones older files carry are ignored,
/// except a non-zero distillation, which only the momentum contrast has.
extension ObjectiveConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case contrast
        case maskedLanguageModelWeight = "masked_language_model_weight"
        case maskingProbability = "masking_probability"
        case gradientCacheChunk = "gradient_cache_chunk"
    }

    enum ContrastName: String, Codable {
        case inBatch = "in_batch"
        case momentum
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(ContrastName.self, forKey: .contrast) {
        case .inBatch:
            // Older files carry the momentum settings for every contrast; only distillation would change training.
            let momentumKeys = try decoder.container(keyedBy: MomentumContrastConfiguration.CodingKeys.self)
            if let alpha = try momentumKeys.decodeIfPresent(Double.self, forKey: .distillation), alpha != 0 {
                throw ModelError.invalidConfiguration("distillation \(alpha) needs the momentum contrast")
            }
            contrast = .inBatch
        case .momentum: contrast = .momentum(try MomentumContrastConfiguration(from: decoder))
        }
        maskedLanguageModelWeight = try container.decode(Double.self, forKey: .maskedLanguageModelWeight)
        maskingProbability = try container.decode(Double.self, forKey: .maskingProbability)
        gradientCacheChunk = try container.decodeIfPresent(Int.self, forKey: .gradientCacheChunk)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch contrast {
        case .inBatch:
            try container.encode(ContrastName.inBatch, forKey: .contrast)
        case .momentum(let settings):
            try container.encode(ContrastName.momentum, forKey: .contrast)
            try settings.encode(to: encoder)
        }
        try container.encode(maskedLanguageModelWeight, forKey: .maskedLanguageModelWeight)
        try container.encode(maskingProbability, forKey: .maskingProbability)
        try container.encodeIfPresent(gradientCacheChunk, forKey: .gradientCacheChunk)
    }
}

/// Read from and written into the objective's own JSON object (see ``ObjectiveConfiguration``).
extension MomentumContrastConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case learnableTemperature = "learnable_temperature"
        case fixedTemperature = "fixed_temperature"
        case momentum
        case queueSize = "queue_size"
        case batchNegatives = "batch_negatives"
        case distillation
        case distillationWarmupSteps = "distillation_warmup_steps"
    }
}
