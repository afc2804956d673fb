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
    ///   - scores: [samples, classes] class scores
    ///   - labels: each sample's class index
    ///   - ks: cut-offs (those above the class count are clamped to it)
    ///
    /// Ranks and predictions are computed by the engine; only one integer per sample crosses to Swift.
    public static func measure(scores: Tensor, labels: [Int], ks: [Int] = [1, 5]) throws -> ClassificationMetrics {
        guard scores.rank == 2, scores.size(0) > 0, scores.size(0) == labels.count, scores.size(1) > 0 else {
            throw EvaluationError.invalidArgument(
                "classification metrics need [samples, classes] scores with one row per label (scores \(scores.shape), "
                    + "\(labels.count) labels)")
        }
        let classes = scores.size(1)
        guard labels.allSatisfy({ (0..<classes).contains($0) }) else {
            throw EvaluationError.invalidArgument("a label lies outside 0..<\(classes)")
        }
        let (ranks, predictions) = try withNoGrad { () -> ([Int64], [Int64]) in
            let exact = try scores.to(dtype: .float64)
            let target = try exact.gather(
                dimension: 1, index: Tensor(labels.map(Int64.init), shape: [labels.count, 1]))
            // Rank 0 is best; every class scoring at least as high as the true one (itself included) counts.
            let ranks = try exact.ge(target).to(dtype: .int64).sum(dimension: 1) - 1
            return (try ranks.toArray(Int64.self), try exact.argmax(dimension: 1).toArray(Int64.self))
        }
        var confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (label, predicted) in zip(labels, predictions) { confusion[label][Int(predicted)] += 1 }
        let topK = Dictionary(
            uniqueKeysWithValues: ks.map { k in (k, Double(ranks.filter { $0 < k }.count) / Double(labels.count)) })
        let perClass: [Double?] = confusion.indices.map { label in
            let total = confusion[label].reduce(0, +)
            return total == 0 ? nil : Double(confusion[label][label]) / Double(total)
        }
        return ClassificationMetrics(topK: topK, perClassAccuracy: perClass, confusion: confusion, samples: labels.count)
    }

    /// Scores given as one row per sample.
    public static func measure(scores: [[Float]], labels: [Int], ks: [Int] = [1, 5]) throws -> ClassificationMetrics {
        guard let classes = scores.first?.count, classes > 0, scores.allSatisfy({ $0.count == classes }) else {
            throw EvaluationError.invalidArgument("every score row needs the same, non-zero number of classes")
        }
        return try measure(scores: Tensor(scores.flatMap { $0 }, shape: [scores.count, classes]), labels: labels, ks: ks)
    }
}

