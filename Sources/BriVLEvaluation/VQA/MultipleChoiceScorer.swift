import BriVL
import Torch
import TorchNN

/// What the model chose for each question of a set, and its accuracy.
public struct MultipleChoiceOutcome: Sendable, Equatable {
    /// The chosen option of each question, in the set's order.
    public var predictions: [Int]
    public var tally: MultipleChoiceTally
}

/// Answers multiple-choice questions with a model as it stands: the option whose "question option" text lies
/// closest to the image wins. With a pretrained model this is zero-shot VQA; after fine-tuning, the fine-tuned score.
public struct MultipleChoiceScorer {
    public let encoder: MultipleChoiceEncoder
    /// Images or texts per forward pass: questions go in groups whose options fill at most this many texts.
    public let batchSize: Int

    public init(encoder: MultipleChoiceEncoder, batchSize: Int) throws {
        guard batchSize >= 1 else { throw EvaluationError.invalidArgument("the batch size must be at least 1") }
        self.encoder = encoder
        self.batchSize = batchSize
    }

    /// Scores every question without recording gradients, with the model in evaluation mode (its modes are put back
    /// afterwards).
    ///
    /// - Parameter progress: questions done, questions in all
    public func evaluate(_ dataset: VQADataset, progress: (Int, Int) -> Void = { _, _ in }) throws -> MultipleChoiceOutcome {
        try encoder.model.withEvaluationMode { try score(dataset, progress: progress) }
    }

    private func score(_ dataset: VQADataset, progress: (Int, Int) -> Void) throws -> MultipleChoiceOutcome {
        let widest = dataset.questions.map(\.options.count).max() ?? 1
        let questionsPerBatch = Swift.max(1, batchSize / widest)
        let loss = MultipleChoiceLoss(scale: 1)
        var predictions: [Int] = []
        var tally = MultipleChoiceTally()
        try withNoGrad {
            for start in stride(from: 0, to: dataset.count, by: questionsPerBatch) {
                let questions = Array(dataset.questions[start..<Swift.min(dataset.count, start + questionsPerBatch)])
                let batch = try encoder.encode(questions, file: dataset.file)
                let scores = try loss.scores(
                    image: batch.imageEmbeddings, options: batch.optionEmbeddings, padding: batch.padding)
                let chosen = try scores.argmax(dimension: 1).toArray(Int64.self).map(Int.init)
                for (question, choice) in zip(questions, chosen) { tally.record(question, predicted: choice) }
                predictions += chosen
                progress(predictions.count, dataset.count)
            }
        }
        return MultipleChoiceOutcome(predictions: predictions, tally: tally)
    }
}
