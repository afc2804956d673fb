import BriVL
import BriVLInference
import Foundation
import Torch

/// Which parts of a caption a model has learnt to see: for each image and factor (class, colour, place…), the
/// caption that describes the image truly competes with the same caption with only that factor changed to each
/// other value. A factor near chance is one the model ignores; a factor far above the others is the shortcut it
/// matches on.
public struct FactorProbe {
    /// One multiple-choice question: which of `candidates` describes image `image`.
    public struct Question: Sendable, Equatable {
        public var image: Int
        public var factor: String
        public var candidates: [String]
        /// The index of the true caption in `candidates`.
        public var answer: Int

        public init(image: Int, factor: String, candidates: [String], answer: Int) {
            self.image = image
            self.factor = factor
            self.candidates = candidates
            self.answer = answer
        }
    }

    public struct FactorResult: Sendable, Equatable {
        public var factor: String
        public var questions: Int
        public var correct: Int
        /// The mean of 1 / candidates: what guessing scores.
        public var chance: Double

        public var accuracy: Double { questions == 0 ? 0 : Double(correct) / Double(questions) }
    }

    public let embedder: TowerEmbedder

    public init(embedder: TowerEmbedder) {
        self.embedder = embedder
    }

    /// Accuracy per factor, in the order factors first appear in `questions`. A question counts as right only when
    /// the true caption scores strictly above every other candidate, so a model that gives every caption the same
    /// score is at zero, not at chance.
    public func evaluate(images: Tensor, questions: [Question]) throws -> [FactorResult] {
        guard !questions.isEmpty else { throw EvaluationError.invalidArgument("no factor questions") }
        let imageCount = images.size(0)
        for question in questions {
            guard (0..<imageCount).contains(question.image) else {
                throw EvaluationError.invalidArgument("question on image \(question.image), but there are \(imageCount)")
            }
            guard question.candidates.count >= 2, question.candidates.indices.contains(question.answer) else {
                throw EvaluationError.invalidArgument(
                    "a \(question.factor) question needs two or more candidates and an answer among them")
            }
        }
        var textIndex: [String: Int] = [:]
        var texts: [String] = []
        for candidate in questions.lazy.flatMap(\.candidates) where textIndex[candidate] == nil {
            textIndex[candidate] = texts.count
            texts.append(candidate)
        }
        let (imageVectors, textVectors) = try withNoGrad {
            (try embedder.embedImages(images), try embedder.embedTexts(texts))
        }
        // Every image against every candidate in one product: [images, texts].
        let similarity = try imageVectors.to(dtype: .float32).matmul(textVectors.to(dtype: .float32).transposed())
        let values = try similarity.contiguous().toArray(Float.self)
        let textCount = texts.count
        func score(_ image: Int, _ text: Int) -> Float { values[image * textCount + text] }

        let scores = questions.map { question in question.candidates.map { score(question.image, textIndex[$0]!) } }
        return Self.tally(questions, scores: scores)
    }

    /// Accuracy per factor from each question's candidate scores (`scores[q][c]`), in the order factors first
    /// appear. Right means strictly above every other candidate.
    static func tally(_ questions: [Question], scores: [[Float]]) -> [FactorResult] {
        var order: [String] = []
        var tallies: [String: (questions: Int, correct: Int, chance: Double)] = [:]
        for (question, scores) in zip(questions, scores) {
            let truth = scores[question.answer]
            let right = scores.indices.allSatisfy { $0 == question.answer || scores[$0] < truth }
            if tallies[question.factor] == nil { order.append(question.factor) }
            var tally = tallies[question.factor, default: (0, 0, 0)]
            tally.questions += 1
            tally.correct += right ? 1 : 0
            tally.chance += 1 / Double(question.candidates.count)
            tallies[question.factor] = tally
        }
        return order.map { factor in
            let tally = tallies[factor]!
            return FactorResult(
                factor: factor, questions: tally.questions, correct: tally.correct,
                chance: tally.chance / Double(tally.questions))
        }
    }

    /// The nearest other word of each word by the cosine of their text embeddings, and the mean cosine over all
    /// distinct pairs: how far apart the text tower keeps, say, the class names.
    public func neighbours(of words: [String]) throws -> (nearest: [(word: String, neighbour: String, cosine: Double)], meanCosine: Double) {
        guard words.count >= 2 else { throw EvaluationError.invalidArgument("neighbours need at least two words") }
        let vectors = try withNoGrad { try embedder.embedTexts(words) }
        let cosines = try withNoGrad { try vectors.matmul(vectors.transposed()) }.to(dtype: .float64).contiguous()
            .toArray(Double.self)
        let count = words.count
        var total = 0.0
        var nearest: [(word: String, neighbour: String, cosine: Double)] = []
        for row in 0..<count {
            var best = (index: -1, cosine: -Double.infinity)
            for column in 0..<count where column != row {
                let cosine = cosines[row * count + column]
                if column > row { total += cosine }
                if cosine > best.cosine { best = (column, cosine) }
            }
            nearest.append((words[row], words[best.index], best.cosine))
        }
        return (nearest, total / Double(count * (count - 1) / 2))
    }
}

extension [FactorProbe.FactorResult] {
    /// The report: accuracy and chance per factor.
    public func report(model: String, dataset: String, settings: [String: String], extraTables: [ReportTable]) -> EvaluationReport {
        var metrics: [String: Double] = [:]
        for result in self { metrics["\(result.factor)_accuracy"] = result.accuracy }
        return EvaluationReport(
            task: "factor_probe", model: model, dataset: dataset, metrics: metrics, settings: settings,
            tables: [
                ReportTable(
                    title: "Which caption factor the model tells apart (%; the true caption against the same caption with one factor changed)",
                    columns: ["factor", "questions", "accuracy", "chance"],
                    rows: map {
                        [$0.factor, String($0.questions), EvaluationReport.percent($0.accuracy), EvaluationReport.percent($0.chance)]
                    })
            ] + extraTables)
    }
}
