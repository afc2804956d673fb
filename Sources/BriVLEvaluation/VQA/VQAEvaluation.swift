import BriVL
import Foundation

/// Where a VQA evaluation is.
public enum VQAProgress {
    /// Scoring the test questions: before fine-tuning (`fineTuned` false) or after.
    case scoring(fineTuned: Bool, done: Int, total: Int)
    /// A fine-tuning step (from 1) and its loss.
    case training(step: Int, total: Int, loss: Double)
}

/// VQA as contrastive multiple choice: the test questions scored with the model as it is (zero-shot), then, when
/// there are training questions, the model fine-tuned on them and the test questions scored again.
public struct VQAEvaluation {
    public let encoder: MultipleChoiceEncoder
    /// Images or texts per forward pass when scoring.
    public let batchSize: Int

    public init(encoder: MultipleChoiceEncoder, batchSize: Int) {
        self.encoder = encoder
        self.batchSize = batchSize
    }

    /// - Parameter train: nil measures zero-shot multiple choice only
    public func run(
        test: VQADataset, train: VQADataset? = nil, fineTuning: VQAFineTuningConfiguration = .init(),
        progress: (VQAProgress) -> Void = { _ in }
    ) throws -> VQAResult {
        let scorer = try MultipleChoiceScorer(encoder: encoder, batchSize: batchSize)
        // Set up the fine-tuning first, so that impossible settings fail before any scoring. Freezing does not
        // change the zero-shot scores: scoring runs in evaluation mode without gradients.
        let tuner = try train.map { _ in try VQAFineTuner(encoder: encoder, configuration: fineTuning) }
        let zeroShot = try scorer.evaluate(test) { progress(.scoring(fineTuned: false, done: $0, total: $1)) }
        var result = VQAResult(
            testQuestions: test.count, chance: test.chance, zeroShot: zeroShot.tally,
            scale: try encoder.model.currentLogitScale())
        guard let train, let tuner else { return result }
        let start = Date()
        let losses = try tuner.train(on: train) {
            progress(.training(step: $0, total: fineTuning.steps, loss: $1))
        }
        result.fineTuning = .init(
            configuration: fineTuning, trainQuestions: train.count, losses: losses,
            seconds: Date().timeIntervalSince(start))
        result.fineTuned = try scorer.evaluate(test) { progress(.scoring(fineTuned: true, done: $0, total: $1)) }.tally
        return result
    }
}

/// The outcome of a VQA evaluation; ``report(model:dataset:)`` turns it into an ``EvaluationReport``.
public struct VQAResult: Sendable, Equatable {
    /// How the model was fine-tuned, and how the training went.
    public struct FineTuning: Sendable, Equatable {
        public var configuration: VQAFineTuningConfiguration
        public var trainQuestions: Int
        public var losses: [Double]
        public var seconds: Double
    }

    public var testQuestions: Int
    /// Guessing's accuracy (the mean of 1 / options).
    public var chance: Double
    public var zeroShot: MultipleChoiceTally
    /// The multiplier of the cosines (the model's 1/τ).
    public var scale: Double
    public var fineTuning: FineTuning?
    public var fineTuned: MultipleChoiceTally?

    public init(
        testQuestions: Int, chance: Double, zeroShot: MultipleChoiceTally, scale: Double, fineTuning: FineTuning? = nil,
        fineTuned: MultipleChoiceTally? = nil
    ) {
        self.testQuestions = testQuestions
        self.chance = chance
        self.zeroShot = zeroShot
        self.scale = scale
        self.fineTuning = fineTuning
        self.fineTuned = fineTuned
    }
}
