import Torch

/// Linear probes at several shot counts: for each k, `trials` seeded draws of k training images per class, a probe
/// trained on each, and the test accuracy's mean and standard deviation. k = nil uses the whole training side once.
public struct LinearProbeEvaluation {
    public struct ShotResult: Sendable, Equatable {
        /// nil: every training image.
        public var shots: Int?
        public var accuracies: [Double]
        public var trainingImages: Int

        public var mean: Double { accuracies.reduce(0, +) / Double(Swift.max(1, accuracies.count)) }
        public var standardDeviation: Double {
            SeenUnseenEvaluation.RatioResult.meanAndDeviation(accuracies).standardDeviation
        }
    }

    public var probe: LinearProbe

    public init(probe: LinearProbe) {
        self.probe = probe
    }

    /// - Parameters:
    ///   - train, test: frozen features [n, dim] and labels
    ///   - progress: called with (probes done, probes in all)
    public func evaluate(
        train: (features: Tensor, labels: [Int]), test: (features: Tensor, labels: [Int]), classes: Int,
        shots: [Int?], trials: Int, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [ShotResult] {
        let total = shots.reduce(0) { $0 + ($1 == nil ? 1 : trials) }
        var done = 0
        return try shots.map { k in
            var accuracies: [Double] = []
            var trainingImages = 0
            for trial in 0..<(k == nil ? 1 : Swift.max(1, trials)) {
                let indices =
                    k.map {
                        LinearProbe.fewShotIndices(
                            labels: train.labels, classes: classes, shots: $0, seed: probe.settings.seed &+ UInt64(trial))
                    } ?? Array(train.labels.indices)
                let features = try train.features.indexSelect(
                    dimension: 0, index: Tensor(indices.map(Int64.init), shape: [indices.count]))
                let (classifier, _, _) = try probe.train(
                    features: features, labels: indices.map { train.labels[$0] }, classes: classes)
                let metrics = try ClassificationMetrics.measure(
                    scores: classifier.scores(test.features), labels: test.labels, ks: [1])
                accuracies.append(metrics.top1)
                trainingImages = indices.count
                done += 1
                progress(done, total)
            }
            return ShotResult(shots: k, accuracies: accuracies, trainingImages: trainingImages)
        }
    }

    public static func report(
        _ results: [ShotResult], model: String, dataset: String, testImages: Int, classes: Int, settings: [String: String]
    ) -> EvaluationReport {
        var metrics: [String: Double] = [:]
        for result in results { metrics["accuracy_" + (result.shots.map { "\($0)_shot" } ?? "full")] = result.mean }
        let percent = EvaluationReport.percent
        return EvaluationReport(
            task: "linear_probe", model: model, dataset: dataset, metrics: metrics,
            settings: settings.merging(
                ["test_images": String(testImages), "classes": String(classes), "chance": percent(1 / Double(classes))]
            ) { $1 },
            tables: [
                ReportTable(
                    title: "Linear probe accuracy (%)",
                    columns: ["shots per class", "training images", "trials", "accuracy", "std"],
                    rows: results.map {
                        [
                            $0.shots.map(String.init) ?? "all", String($0.trainingImages), String($0.accuracies.count),
                            percent($0.mean), percent($0.standardDeviation),
                        ]
                    })
            ])
    }
}
