import Torch

/// Accuracy figures of a classifier's scores: top-k, per class, and the confusion matrix.
public struct ClassificationMetrics: Sendable, Equatable {
    /// k → fraction of samples whose class is among the k best-scored classes (ties count against the sample).
    public var topK: [Int: Double]
    /// For each class, the fraction of its samples predicted as it; nil for a class with no samples.
    public var perClassAccuracy: [Double?]
    /// confusion[true][predicted] counts.
    public var confusion: [[Int]]
    public var samples: Int

    public var top1: Double { topK[1] ?? 0 }

    /// The mean of the per-class accuracies over classes with samples (balanced accuracy).
    public var meanPerClassAccuracy: Double {
        let present = perClassAccuracy.compactMap { $0 }
        return present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    /// - Parameters:
    ///   - scores: one row of class scores per sample
    ///   - labels: each sample's class index
    ///   - ks: cut-offs (those above the class count are clamped to it)
    public static func measure(scores: [[Float]], labels: [Int], ks: [Int] = [1, 5]) throws -> ClassificationMetrics {
        guard !scores.isEmpty, scores.count == labels.count else {
            throw EvaluationError.invalidArgument(
                "classification metrics need one score row per label (\(scores.count) rows, \(labels.count) labels)")
        }
        let classes = scores[0].count
        guard classes > 0, scores.allSatisfy({ $0.count == classes }) else {
            throw EvaluationError.invalidArgument("every score row needs the same, non-zero number of classes")
        }
        guard labels.allSatisfy({ (0..<classes).contains($0) }) else {
            throw EvaluationError.invalidArgument("a label lies outside 0..<\(classes)")
        }
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        var hits = Dictionary(uniqueKeysWithValues: ks.map { ($0, 0) })
        for (row, label) in zip(scores, labels) {
            let target = row[label]
            // Rank 0 is best; every other class scoring at least as high pushes the true class down.
            let rank = row.indices.filter { $0 != label && row[$0] >= target }.count
            for k in ks where rank < k { hits[k]! += 1 }
            confusion[label][Self.argmax(row)] += 1
        }
        let perClass: [Double?] = confusion.indices.map { label in
            let total = confusion[label].reduce(0, +)
            return total == 0 ? nil : Double(confusion[label][label]) / Double(total)
        }
        return ClassificationMetrics(
            topK: hits.mapValues { Double($0) / Double(labels.count) }, perClassAccuracy: perClass,
            confusion: confusion, samples: labels.count)
    }

    /// Scores as a tensor [samples, classes].
    public static func measure(scores: Tensor, labels: [Int], ks: [Int] = [1, 5]) throws -> ClassificationMetrics {
        try measure(scores: try scores.rows(), labels: labels, ks: ks)
    }

    /// The first index of the highest score (the prediction).
    static func argmax(_ row: [Float]) -> Int {
        var best = 0
        for index in row.indices where row[index] > row[best] { best = index }
        return best
    }
}

extension Tensor {
    /// A float matrix [n, m] as n rows.
    func rows() throws -> [[Float]] {
        guard rank == 2 else { throw EvaluationError.invalidArgument("expected a matrix, got shape \(shape)") }
        let values = try withNoGrad { try self.to(dtype: .float32).contiguous().toArray(Float.self) }
        let width = size(1)
        return (0..<size(0)).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }
}
