import BriVLData

/// Right answers out of questions asked.
public struct AnswerCount: Sendable, Equatable {
    public var correct = 0
    public var total = 0

    public init(correct: Int = 0, total: Int = 0) {
        self.correct = correct
        self.total = total
    }

    /// The fraction answered right; NaN when nothing was asked.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : .nan }

    mutating func add(_ isCorrect: Bool) {
        total += 1
        if isCorrect { correct += 1 }
    }
}

/// Multiple-choice accuracy overall, by question type and by language.
public struct MultipleChoiceTally: Sendable, Equatable {
    public private(set) var overall = AnswerCount()
    public private(set) var byType: [VQAQuestionType: AnswerCount] = [:]
    /// Keyed by the question's language ("zh", "en"; "" when not given).
    public private(set) var byLanguage: [String: AnswerCount] = [:]

    public init() {}

    public mutating func record(_ question: VQAQuestion, predicted: Int) {
        let isCorrect = predicted == question.answer
        overall.add(isCorrect)
        byType[question.type, default: AnswerCount()].add(isCorrect)
        byLanguage[question.language, default: AnswerCount()].add(isCorrect)
    }

    public var accuracy: Double { overall.accuracy }

    /// The accuracy on questions of `type`; NaN when there were none.
    public func accuracy(_ type: VQAQuestionType) -> Double { byType[type]?.accuracy ?? .nan }
}
