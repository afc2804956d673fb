/// How a model is fine-tuned for contrastive multiple choice. The defaults follow BriVL's recipe for a pretrained
/// model on a small task: the batch norms frozen, a small learning rate, every layer trainable unless told otherwise.
public struct VQAFineTuningConfiguration: Sendable, Equatable {
    /// Optimizer steps.
    public var steps: Int
    /// AdamW's peak learning rate (linear warmup over the first tenth of the steps, then cosine decay to zero).
    public var learningRate: Double
    public var weightDecay: Double
    /// Questions per step; each brings its image and all its options.
    public var batchSize: Int
    /// Keeps every batch norm in evaluation mode while training: small batches of one task would otherwise replace
    /// the running statistics the pretrained weights were trained with. Their scale and shift still train (unless
    /// their layer is frozen).
    public var freezeBatchNorm: Bool
    /// How many of the image backbone's last units train: ResNet stages (the stem and the stages before them are
    /// frozen, their batch norms kept in evaluation mode) or ViT blocks (the patch embedding, class and position
    /// embeddings and earlier blocks frozen). The region pooling and the image head always train. Nil trains the
    /// whole backbone; 0 freezes all of it.
    public var trainableImageBlocks: Int?
    /// How many of BERT's last layers train (the embeddings and earlier layers are frozen); the text head always
    /// trains. Nil trains all of BERT.
    public var trainableTextLayers: Int?
    /// Clips the gradients' global norm; nil does not clip.
    public var gradientClip: Double?
    /// Orders the training questions.
    public var seed: UInt64

    public init(
        steps: Int = 300, learningRate: Double = 1e-4, weightDecay: Double = 0.01, batchSize: Int = 32,
        freezeBatchNorm: Bool = true, trainableImageBlocks: Int? = nil, trainableTextLayers: Int? = nil,
        gradientClip: Double? = 1, seed: UInt64 = 0
    ) {
        self.steps = steps
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.batchSize = batchSize
        self.freezeBatchNorm = freezeBatchNorm
        self.trainableImageBlocks = trainableImageBlocks
        self.trainableTextLayers = trainableTextLayers
        self.gradientClip = gradientClip
        self.seed = seed
    }

    /// Throws ``EvaluationError/invalidArgument(_:)`` naming the first setting that cannot work.
    public func validate() throws {
        func invalid(_ message: String) -> EvaluationError { .invalidArgument("VQA fine-tuning: \(message)") }
        guard steps >= 1 else { throw invalid("needs at least one step, got \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw invalid("the learning rate must be positive") }
        guard weightDecay >= 0 else { throw invalid("the weight decay must not be negative") }
        guard batchSize >= 1 else { throw invalid("the batch size must be at least 1, got \(batchSize)") }
        if let trainableImageBlocks, trainableImageBlocks < 0 {
            throw invalid("trainable image blocks must not be negative, got \(trainableImageBlocks)")
        }
        if let trainableTextLayers, trainableTextLayers < 0 {
            throw invalid("trainable text layers must not be negative, got \(trainableTextLayers)")
        }
        if let gradientClip, !(gradientClip > 0) { throw invalid("the gradient clip must be positive") }
    }
}
