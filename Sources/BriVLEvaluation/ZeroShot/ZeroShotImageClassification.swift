import BriVL
import BriVLInference
import Foundation
import Torch

/// Zero-shot image classification: each class is the mean text embedding of its prompts, and each image is given
/// the class whose embedding is most similar to its own.
public struct ZeroShotImageClassification {
    public struct Result {
        public var metrics: ClassificationMetrics
        /// [images, classes] cosine similarities.
        public var scores: Tensor
        public var classes: ClassPrompts
    }

    public let embedder: TowerEmbedder

    public init(embedder: TowerEmbedder) {
        self.embedder = embedder
    }

    public func evaluate(images: LabelledImageSet, classes: ClassPrompts, ks: [Int] = [1, 5]) throws -> Result {
        let classEmbeddings = try embedder.embedClasses(prompts: classes.prompts)
        let imageEmbeddings = try embedder.embedImages(images.images)
        let scores = try withNoGrad { try imageEmbeddings.matmul(classEmbeddings.transposed()) }
        return Result(
            metrics: try ClassificationMetrics.measure(scores: scores, labels: images.labels, ks: ks), scores: scores,
            classes: classes)
    }
}

extension ZeroShotImageClassification.Result {
    /// The report: top-k and balanced accuracy, a per-class table, and the confusion matrix picture's name.
    public func report(model: String, dataset: String, settings: [String: String], confusionPicture: String?)
        -> EvaluationReport
    {
        var metrics = ["mean_per_class": self.metrics.meanPerClassAccuracy]
        for (k, value) in self.metrics.topK { metrics["top\(k)"] = value }
        let rows = classes.labels.indices.map { index -> [String] in
            let samples = self.metrics.confusion[index].reduce(0, +)
            return [
                classes.labels[index], classes.displayNames[index], String(samples),
                self.metrics.perClassAccuracy[index].map(EvaluationReport.percent) ?? "–",
            ]
        }
        return EvaluationReport(
            task: "zero_shot_classification", model: model, dataset: dataset, metrics: metrics,
            settings: settings.merging(
                ["classes": String(classes.count), "images": String(self.metrics.samples)]) { $1 },
            tables: [
                ReportTable(
                    title: "Zero-shot accuracy (%)", columns: ["images", "classes"] + self.metrics.topK.keys.sorted().map { "top-\($0)" }
                        + ["mean per class"],
                    rows: [
                        [String(self.metrics.samples), String(classes.count)]
                            + self.metrics.topK.keys.sorted().map { EvaluationReport.percent(self.metrics.topK[$0]!) }
                            + [EvaluationReport.percent(self.metrics.meanPerClassAccuracy)]
                    ]),
                ReportTable(title: "Per class", columns: ["label", "name", "images", "top-1 %"], rows: rows),
            ],
            attachments: confusionPicture.map { [$0] } ?? [])
    }
}
