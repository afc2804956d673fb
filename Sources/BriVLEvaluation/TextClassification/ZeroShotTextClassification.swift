import BriVL
import BriVLInference
import Torch

/// Zero-shot text classification with the text tower alone: each text goes to the class whose description
/// embedding (the mean of its prompts) is most similar. WenLan 2.0 compares the pretrained text tower with the
/// same tower before image–text pretraining, class by class; `compare` does that against any baseline model.
public struct ZeroShotTextClassification {
    public struct Result {
        public var metrics: ClassificationMetrics
        public var classes: ClassPrompts
    }

    public init() {}

    public func evaluate(texts: LabelledTexts, classes: ClassPrompts, with embedder: TowerEmbedder) throws -> Result {
        let classEmbeddings = try embedder.embedClasses(prompts: classes.prompts)
        let textEmbeddings = try embedder.embedTexts(texts.texts)
        let scores = try withNoGrad { try textEmbeddings.matmul(classEmbeddings.transposed()) }
        return Result(
            metrics: try ClassificationMetrics.measure(scores: scores, labels: texts.labels, ks: [1, 3]),
            classes: classes)
    }

    /// The report of a model against a baseline: accuracy of both, and per class the gain or loss in points.
    public static func report(
        model: Result, baseline: Result?, modelName: String, baselineName: String?, dataset: String,
        settings: [String: String]
    ) -> EvaluationReport {
        var metrics = ["top1": model.metrics.top1, "mean_per_class": model.metrics.meanPerClassAccuracy]
        if let top3 = model.metrics.topK[3] { metrics["top3"] = top3 }
        if let baseline {
            metrics["baseline_top1"] = baseline.metrics.top1
            metrics["baseline_mean_per_class"] = baseline.metrics.meanPerClassAccuracy
        }
        let percent = EvaluationReport.percent
        let rows = model.classes.labels.indices.map { index -> [String] in
            let ours = model.metrics.perClassAccuracy[index]
            var row = [
                model.classes.labels[index], model.classes.displayNames[index],
                String(model.metrics.confusion[index].reduce(0, +)), ours.map(percent) ?? "–",
            ]
            if let baseline {
                let theirs = baseline.metrics.perClassAccuracy[index]
                row += [theirs.map(percent) ?? "–"]
                if let ours, let theirs { row.append(String(format: "%+.1f", (ours - theirs) * 100)) } else { row.append("–") }
            }
            return row
        }
        var summaryColumns = ["texts", "classes", "top-1", "top-3", "mean per class"]
        var summary = [
            String(model.metrics.samples), String(model.classes.count), percent(model.metrics.top1),
            model.metrics.topK[3].map(percent) ?? "–", percent(model.metrics.meanPerClassAccuracy),
        ]
        if let baseline {
            summaryColumns += ["baseline top-1", "gain"]
            summary += [
                percent(baseline.metrics.top1),
                String(format: "%+.1f", (model.metrics.top1 - baseline.metrics.top1) * 100),
            ]
        }
        var allSettings = settings
        if let baselineName { allSettings["baseline"] = baselineName }
        allSettings["chance"] = percent(1 / Double(model.classes.count))
        return EvaluationReport(
            task: "text_classification", model: modelName, dataset: dataset, metrics: metrics, settings: allSettings,
            tables: [
                ReportTable(title: "Zero-shot text classification (%)", columns: summaryColumns, rows: [summary]),
                ReportTable(
                    title: "Per class (%)",
                    columns: ["label", "name", "texts", "top-1"] + (baseline == nil ? [] : ["baseline", "gain"]),
                    rows: rows),
            ])
    }
}
