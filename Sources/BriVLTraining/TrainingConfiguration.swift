import BriVL
import Foundation

/// Everything a pretraining run needs, stored as `training.json` in the run folder so a resumed run continues
/// under the same settings.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var model: BriVLConfiguration
    public var objective: ObjectiveConfiguration
    public var data: DataSettings
    public var optimization: OptimizationSettings
    public var run: RunSettings

    public init(
        model: BriVLConfiguration, objective: ObjectiveConfiguration = .brivl, data: DataSettings,
        optimization: OptimizationSettings = OptimizationSettings(), run: RunSettings = RunSettings()
    ) {
        self.model = model
        self.objective = objective
        self.data = data
        self.optimization = optimization
        self.run = run
    }

    /// Where the pairs come from and how they are batched.
    public struct DataSettings: Codable, Sendable, Equatable {
        /// A folder of WebDataset shards for training.
        public var trainShards: String
        /// A folder of held-out shards for validation retrieval (nil: no validation).
        public var validationShards: String?
        /// A zero-shot split: a folder with shards whose `label` metadata names a class and a `classes.json`
        /// (nil: no zero-shot figure).
        public var zeroShotShards: String?
        /// The WordPiece `vocab.txt`; its size becomes the text encoder's vocabulary size.
        public var vocabulary: String
        public var batchSize: Int
        public var workerThreads: Int
        public var shuffleBufferSize: Int
        /// Area fraction kept by the random resized crop.
        public var cropScale: [Double]
        /// Score each image against one hard negative of its caption as well (the records' `hard_negatives`;
        /// in-batch loss, one process, no gradient cache).
        public var hardNegatives: Bool

        enum CodingKeys: String, CodingKey {
            case trainShards = "train_shards"
            case validationShards = "validation_shards"
            case zeroShotShards = "zero_shot_shards"
            case vocabulary
            case batchSize = "batch_size"
            case workerThreads = "worker_threads"
            case shuffleBufferSize = "shuffle_buffer_size"
            case cropScale = "crop_scale"
            case hardNegatives = "hard_negatives"
        }

        public init(
            trainShards: String, validationShards: String? = nil, zeroShotShards: String? = nil, vocabulary: String,
            batchSize: Int = 64, workerThreads: Int = 1, shuffleBufferSize: Int = 1000, cropScale: [Double] = [0.9, 1],
            hardNegatives: Bool = false
        ) {
            self.trainShards = trainShards
            self.validationShards = validationShards
            self.zeroShotShards = zeroShotShards
            self.vocabulary = vocabulary
            self.batchSize = batchSize
            self.workerThreads = workerThreads
            self.shuffleBufferSize = shuffleBufferSize
            self.cropScale = cropScale
            self.hardNegatives = hardNegatives
        }

        /// Runs written before a setting existed read with its default.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            trainShards = try container.decode(String.self, forKey: .trainShards)
            validationShards = try container.decodeIfPresent(String.self, forKey: .validationShards)
            zeroShotShards = try container.decodeIfPresent(String.self, forKey: .zeroShotShards)
            vocabulary = try container.decode(String.self, forKey: .vocabulary)
            batchSize = try container.decode(Int.self, forKey: .batchSize)
            workerThreads = try container.decode(Int.self, forKey: .workerThreads)
            shuffleBufferSize = try container.decode(Int.self, forKey: .shuffleBufferSize)
            cropScale = try container.decode([Double].self, forKey: .cropScale)
            hardNegatives = try container.decodeIfPresent(Bool.self, forKey: .hardNegatives) ?? false
        }
    }

    /// AdamW, its schedule, clipping and which backbone parts train.
    public struct OptimizationSettings: Codable, Sendable, Equatable {
        public var learningRate: Double
        public var warmupSteps: Int
        public var weightDecay: Double
        public var beta1: Double
        public var beta2: Double
        public var eps: Double
        /// Clip the global gradient norm to this (nil: no clipping).
        public var gradientClip: Double?
        /// Freeze the CNN's stem and first n stages (nil: train all).
        public var frozenImageStages: Int?
        /// Train only the last n BERT layers (nil: train all).
        public var trainableTextLayers: Int?

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate"
            case warmupSteps = "warmup_steps"
            case weightDecay = "weight_decay"
            case beta1 = "beta1"
            case beta2 = "beta2"
            case eps
            case gradientClip = "gradient_clip"
            case frozenImageStages = "frozen_image_stages"
            case trainableTextLayers = "trainable_text_layers"
        }

        /// OpenCLIP's defaults (lr 5e-4, betas 0.9/0.98, eps 1e-6, weight decay 0.2).
        public init(
            learningRate: Double = 5e-4, warmupSteps: Int = 100, weightDecay: Double = 0.2, beta1: Double = 0.9,
            beta2: Double = 0.98, eps: Double = 1e-6, gradientClip: Double? = 1, frozenImageStages: Int? = nil,
            trainableTextLayers: Int? = nil
        ) {
            self.learningRate = learningRate
            self.warmupSteps = warmupSteps
            self.weightDecay = weightDecay
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.gradientClip = gradientClip
            self.frozenImageStages = frozenImageStages
            self.trainableTextLayers = trainableTextLayers
        }
    }

    /// Length, seeds, and how often to log, validate and checkpoint.
    public struct RunSettings: Codable, Sendable, Equatable {
        /// Optimizer steps of the whole run (the cosine schedule ends here).
        public var steps: Int
        public var seed: UInt64
        public var logEvery: Int
        /// Validate every n steps and at the end (0: only at the end).
        public var validateEvery: Int
        /// Pairs of the validation split used (the first ones).
        public var validationPairs: Int
        public var checkpointEvery: Int
        public var keepCheckpoints: Int
        /// A run folder or checkpoint whose model weights a new run starts from (ours or one `brivl import` wrote):
        /// weights only — a new optimizer, new queues, and the momentum towers copied from those weights. A resumed
        /// run continues from its own checkpoint instead.
        public var initFrom: String?

        enum CodingKeys: String, CodingKey {
            case steps, seed
            case initFrom = "init_from"
            case logEvery = "log_every"
            case validateEvery = "validate_every"
            case validationPairs = "validation_pairs"
            case checkpointEvery = "checkpoint_every"
            case keepCheckpoints = "keep_checkpoints"
        }

        public init(
            steps: Int = 1000, seed: UInt64 = 0, logEvery: Int = 10, validateEvery: Int = 200,
            validationPairs: Int = 1000, checkpointEvery: Int = 200, keepCheckpoints: Int = 2
        ) {
            self.steps = steps
            self.seed = seed
            self.logEvery = logEvery
            self.validateEvery = validateEvery
            self.validationPairs = validationPairs
            self.checkpointEvery = checkpointEvery
            self.keepCheckpoints = keepCheckpoints
        }
    }

    public func validate() throws {
        do {
            try model.validate()
            try objective.validate(batchSize: data.batchSize)
        } catch let error as ModelError {
            throw TrainingError.invalidConfiguration(error.description)
        }
        guard run.steps > 0, run.logEvery > 0, run.checkpointEvery > 0, run.keepCheckpoints > 0,
            run.validateEvery >= 0, run.validationPairs > 0
        else {
            throw TrainingError.invalidConfiguration(
                "steps, log_every, checkpoint_every, keep_checkpoints and validation_pairs must be positive")
        }
        guard data.workerThreads > 0, data.shuffleBufferSize > 0, data.cropScale.count == 2,
            data.cropScale[0] > 0, data.cropScale[0] <= data.cropScale[1], data.cropScale[1] <= 1
        else {
            throw TrainingError.invalidConfiguration(
                "worker_threads and shuffle_buffer_size must be positive and crop_scale a range within (0, 1]")
        }
        guard optimization.learningRate > 0, optimization.warmupSteps >= 0, optimization.weightDecay >= 0,
            (0..<1).contains(optimization.beta1), (0..<1).contains(optimization.beta2), optimization.eps >= 0
        else { throw TrainingError.invalidConfiguration("AdamW needs lr > 0, betas in [0, 1), eps ≥ 0, decay ≥ 0") }
        if let clip = optimization.gradientClip, clip <= 0 {
            throw TrainingError.invalidConfiguration("gradient_clip must be positive")
        }
        if data.hardNegatives {
            guard case .inBatch = objective.contrast else {
                throw TrainingError.invalidConfiguration(
                    "hard negatives work with the in-batch loss (--recipe clip), not with MoCo's queues")
            }
            if let chunk = objective.gradientCacheChunk, chunk < data.batchSize {
                throw TrainingError.invalidConfiguration(
                    "hard negatives need the whole batch in one pass: drop the gradient cache chunk (\(chunk))")
            }
        }
    }

    // MARK: - JSON

    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func read(from path: String) throws -> TrainingConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidConfiguration("cannot read \(path)")
        }
        do {
            return try JSONDecoder().decode(TrainingConfiguration.self, from: data)
        } catch {
            throw TrainingError.invalidConfiguration("\(path) is not a training configuration: \(error)")
        }
    }
}
