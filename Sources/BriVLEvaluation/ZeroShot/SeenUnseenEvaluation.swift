import BriVL
import BriVLInference
import Foundation
import Torch
import TorchNN

/// The seen/unseen protocol of WenLan 2.0's remote-sensing table: for each ratio, over several random class splits,
/// adapt the model on the images of the seen classes only, then classify the images of the unseen classes among
/// the unseen classes; report the mean and standard deviation of that accuracy.
///
/// Adaptation fine-tunes the image tower's embedding head (the backbone stays frozen, BN in evaluation mode) with
/// cross-entropy against the frozen text embeddings of the seen classes, at the model's own temperature. Because
/// the backbone is frozen its features are computed once and shared by every split. The head is restored before
/// each split and at the end, so the model leaves unchanged.
public struct SeenUnseenEvaluation {
    public struct Adaptation: Sendable, Equatable {
        /// Optimizer steps on the seen classes per split (0: pure zero-shot on the unseen classes).
        public var steps = 100
        public var learningRate = 1e-4
        public var batchSize = 64
        public var weightDecay = 0.01
        public var seed: UInt64 = 0

        public init() {}
    }

    /// One split's outcome.
    public struct SplitResult: Sendable, Equatable {
        public var split: ClassSplit
        /// Unseen-class accuracy of the model as loaded.
        public var zeroShotAccuracy: Double
        /// Unseen-class accuracy after adapting on the seen classes.
        public var adaptedAccuracy: Double
        /// The cross-entropy on seen-class batches at the first and last adaptation steps.
        public var firstLoss: Double?
        public var lastLoss: Double?
    }

    public struct RatioResult: Sendable, Equatable {
        public var ratio: ClassSplit.Ratio
        public var splits: [SplitResult]

        public var adapted: (mean: Double, standardDeviation: Double) { Self.meanAndDeviation(splits.map(\.adaptedAccuracy)) }
        public var zeroShot: (mean: Double, standardDeviation: Double) { Self.meanAndDeviation(splits.map(\.zeroShotAccuracy)) }

        /// The mean and the (population) standard deviation.
        static func meanAndDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
            guard !values.isEmpty else { return (0, 0) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            return (mean, variance.squareRoot())
        }
    }

    public let embedder: TowerEmbedder
    public var adaptation: Adaptation

    public init(embedder: TowerEmbedder, adaptation: Adaptation) {
        self.embedder = embedder
        self.adaptation = adaptation
    }

    /// - Parameter progress: called with (splits done, splits in all)
    public func evaluate(
        images: LabelledImageSet, classes: ClassPrompts, ratios: [ClassSplit.Ratio], splitsPerRatio: Int,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [RatioResult] {
        let model = embedder.model
        let head = model.imageTower.head
        let classEmbeddings = try embedder.embedClasses(prompts: classes.prompts)
        let features = try embedder.imageFeatures(images.images)
        let original = try withNoGrad { try head.stateDict().map { ($0.key, try $0.tensor.clone()) } }
        let originalState = Dictionary(uniqueKeysWithValues: original)
        defer { try? head.load(stateDict: originalState) }
        return try model.withEvaluationMode {
            try evaluate(
                features: features, labels: images.labels, classCount: classes.count, classEmbeddings: classEmbeddings,
                originalState: originalState, ratios: ratios, splitsPerRatio: splitsPerRatio, progress: progress)
        }
    }

    private func evaluate(
        features: Tensor, labels: [Int], classCount: Int, classEmbeddings: Tensor, originalState: [String: Tensor],
        ratios: [ClassSplit.Ratio], splitsPerRatio: Int, progress: (Int, Int) -> Void
    ) throws -> [RatioResult] {
        let head = embedder.model.imageTower.head
        let plans = try ratios.map {
            ($0, try ClassSplit.draw(classes: classCount, ratio: $0, count: splitsPerRatio, seed: adaptation.seed))
        }
        let total = plans.reduce(0) { $0 + $1.1.count }
        var done = 0
        return try plans.map { ratio, splits in
            let results = try splits.map { split -> SplitResult in
                try head.load(stateDict: originalState)
                let zeroShot = try accuracy(features: features, labels: labels, classEmbeddings: classEmbeddings, on: split.unseen)
                var result = SplitResult(split: split, zeroShotAccuracy: zeroShot, adaptedAccuracy: zeroShot)
                if !split.seen.isEmpty, adaptation.steps > 0 {
                    let losses = try adapt(
                        features: features, labels: labels, classEmbeddings: classEmbeddings, seen: split.seen)
                    result.firstLoss = losses.first
                    result.lastLoss = losses.last
                    result.adaptedAccuracy = try accuracy(
                        features: features, labels: labels, classEmbeddings: classEmbeddings, on: split.unseen)
                }
                done += 1
                progress(done, total)
                return result
            }
            return RatioResult(ratio: ratio, splits: results)
        }
    }

    /// Top-1 accuracy on the images of `classSubset`, choosing among those classes only.
    func accuracy(features: Tensor, labels: [Int], classEmbeddings: Tensor, on classSubset: [Int]) throws -> Double {
        let position = Dictionary(uniqueKeysWithValues: classSubset.enumerated().map { ($1, $0) })
        let members = labels.indices.filter { position[labels[$0]] != nil }
        guard !members.isEmpty else {
            throw EvaluationError.invalidArgument("no image belongs to the classes \(classSubset)")
        }
        let head = embedder.model.imageTower.head
        let subsetEmbeddings = try classEmbeddings.indexSelect(dimension: 0, index: Self.index(classSubset))
        var correct = 0
        try withNoGrad {
            for start in stride(from: 0, to: members.count, by: embedder.batchSize) {
                let batch = Array(members[start..<Swift.min(start + embedder.batchSize, members.count)])
                let embeddings = try head(features.indexSelect(dimension: 0, index: Self.index(batch)))
                let predictions = try embeddings.matmul(subsetEmbeddings.transposed()).argmax(dimension: 1)
                    .toArray(Int64.self)
                correct += zip(batch, predictions).filter { position[labels[$0]] == Int($1) }.count
            }
        }
        return Double(correct) / Double(members.count)
    }

    /// Fine-tunes the image head on the seen classes' images; returns the loss of every step.
    func adapt(features: Tensor, labels: [Int], classEmbeddings: Tensor, seen: [Int]) throws -> [Double] {
        let model = embedder.model
        let head = model.imageTower.head
        let position = Dictionary(uniqueKeysWithValues: seen.enumerated().map { ($1, $0) })
        let members = labels.indices.filter { position[labels[$0]] != nil }
        guard !members.isEmpty else { throw EvaluationError.invalidArgument("no image belongs to the seen classes") }
        let targets = try classEmbeddings.indexSelect(dimension: 0, index: Self.index(seen)).detach()
        let scale = try model.currentLogitScale()
        let trainable = head.parameters()
        let frozen = trainable.map { !$0.requiresGrad }
        for parameter in trainable { try parameter.requiringGrad(true) }
        defer { for (parameter, wasFrozen) in zip(trainable, frozen) where wasFrozen { _ = try? parameter.requiringGrad(false) } }
        let optimizer = try AdamW(
            groups: ParameterGroup.decayGroups(for: head, weightDecay: adaptation.weightDecay),
            learningRate: adaptation.learningRate)
        let generator = try Generator(seed: adaptation.seed ^ UInt64(seen.count) << 40 ^ UInt64(seen.first ?? 0))
        let batch = Swift.min(adaptation.batchSize, members.count)
        var losses: [Double] = []
        for _ in 0..<adaptation.steps {
            let draw = try Tensor.randperm(members.count, generator: generator).narrowed(dimension: 0, start: 0, length: batch)
                .toArray(Int64.self).map { members[Int($0)] }
            let target = try Tensor(draw.map { Int64(position[labels[$0]]!) }, shape: [batch])
            try optimizer.zeroGrad()
            let embeddings = try head(features.indexSelect(dimension: 0, index: Self.index(draw)))
            let logits = try embeddings.matmul(targets.transposed()) * scale
            let loss = try Functional.crossEntropy(logits: logits, targets: target)
            try loss.backward()
            try optimizer.step()
            losses.append(try loss.item())
        }
        return losses
    }

    static func index(_ values: [Int]) throws -> Tensor {
        try Tensor(values.map(Int64.init), shape: [values.count])
    }
}

extension SeenUnseenEvaluation {
    /// The report: for each ratio, unseen-class accuracy mean ± std without and with adaptation.
    public static func report(
        _ results: [RatioResult], model: String, dataset: String, classes: ClassPrompts, settings: [String: String]
    ) -> EvaluationReport {
        var metrics: [String: Double] = [:]
        var rows: [[String]] = []
        var splitRows: [[String]] = []
        for result in results {
            let key = "\(result.ratio.unseen)_\(result.ratio.seen)"
            let (adaptedMean, adaptedDeviation) = result.adapted
            let (zeroShotMean, zeroShotDeviation) = result.zeroShot
            metrics["unseen_accuracy_\(key)"] = adaptedMean
            metrics["unseen_zero_shot_accuracy_\(key)"] = zeroShotMean
            rows.append([
                result.ratio.description, String(result.splits.count),
                "\(EvaluationReport.percent(zeroShotMean)) ± \(EvaluationReport.percent(zeroShotDeviation))",
                "\(EvaluationReport.percent(adaptedMean)) ± \(EvaluationReport.percent(adaptedDeviation))",
                EvaluationReport.percent(1 / Double(result.ratio.unseen)),
            ])
            for (index, split) in result.splits.enumerated() {
                splitRows.append([
                    result.ratio.description, String(index + 1),
                    split.split.unseen.map { classes.displayNames[$0] }.joined(separator: " "),
                    EvaluationReport.percent(split.zeroShotAccuracy), EvaluationReport.percent(split.adaptedAccuracy),
                    split.firstLoss.map { String(format: "%.3f → %.3f", $0, split.lastLoss!) } ?? "–",
                ])
            }
        }
        return EvaluationReport(
            task: "seen_unseen_classification", model: model, dataset: dataset, metrics: metrics, settings: settings,
            tables: [
                ReportTable(
                    title: "Unseen-class accuracy (%), mean ± std over splits",
                    columns: ["unseen/seen", "splits", "zero-shot", "adapted on seen", "chance"], rows: rows),
                ReportTable(
                    title: "Splits", columns: ["unseen/seen", "split", "unseen classes", "zero-shot %", "adapted %", "loss"],
                    rows: splitRows),
            ])
    }
}
