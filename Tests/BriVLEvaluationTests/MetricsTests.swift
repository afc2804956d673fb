import BriVL
import Testing
import Torch

@testable import BriVLEvaluation

@Suite struct ClassificationMetricsTests {
    @Test func handWorkedScores() throws {
        // Sample 0 (class 0): right. Sample 1 (class 1): class 2 wins, class 1 second. Sample 2 (class 2): class 2
        // ties with class 0 and ties count against it, so it is third at best → rank 1 (one rival ≥) → top-2 only.
        let scores: [[Float]] = [[0.9, 0.1, 0.0], [0.1, 0.5, 0.7], [0.4, 0.0, 0.4]]
        let metrics = try ClassificationMetrics.measure(scores: scores, labels: [0, 1, 2], ks: [1, 2, 3])
        #expect(metrics.topK == [1: 1.0 / 3, 2: 1.0, 3: 1.0])
        #expect(metrics.confusion == [[1, 0, 0], [0, 0, 1], [1, 0, 0]])
        #expect(metrics.perClassAccuracy == [1, 0, 0])
        #expect(abs(metrics.meanPerClassAccuracy - 1.0 / 3) < 1e-12)
    }

    @Test func constantScoresEarnNothingAndAbsentClassesAreLeftOut() throws {
        let metrics = try ClassificationMetrics.measure(scores: Array(repeating: [1, 1, 1, 1], count: 4), labels: [0, 0, 1, 1], ks: [1, 3])
        #expect(metrics.topK == [1: 0, 3: 0])
        #expect(metrics.perClassAccuracy[2] == nil && metrics.perClassAccuracy[3] == nil)
    }

    @Test func balancedAccuracyWeighsClassesEqually() throws {
        // Class 0 has three samples, all right; class 1 has one, wrong: top-1 75 %, balanced 50 %.
        let scores: [[Float]] = [[1, 0], [1, 0], [1, 0], [1, 0]]
        let metrics = try ClassificationMetrics.measure(scores: scores, labels: [0, 0, 0, 1], ks: [1])
        #expect(metrics.top1 == 0.75)
        #expect(metrics.meanPerClassAccuracy == 0.5)
    }

    @Test func refusesMismatchedInput() {
        #expect(throws: EvaluationError.self) { try ClassificationMetrics.measure(scores: [[1, 0]], labels: [0, 1]) }
        #expect(throws: EvaluationError.self) { try ClassificationMetrics.measure(scores: [[1, 0]], labels: [2]) }
        #expect(throws: EvaluationError.self) { try ClassificationMetrics.measure(scores: [[1, 0], [1]], labels: [0, 1]) }
    }

    @Test func tensorScoresGiveTheSameFigures() throws {
        let rows: [[Float]] = [[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]
        let tensor = try Tensor(rows.flatMap { $0 }, shape: [3, 2])
        #expect(try ClassificationMetrics.measure(scores: tensor, labels: [1, 1, 0]) == ClassificationMetrics.measure(scores: rows, labels: [1, 1, 0]))
    }
}
