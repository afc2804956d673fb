import BriVLData
import Foundation

extension VQAResult {
    /// The headline tally: fine-tuned when the model was fine-tuned, zero-shot otherwise.
    public var final: MultipleChoiceTally { fineTuned ?? zeroShot }

    /// Task "vqa". Metrics: `accuracy` and `accuracy_<type>` (fine-tuned, or zero-shot without training questions),
    /// `zero_shot_accuracy` and `zero_shot_accuracy_<type>`. Tables: accuracy by question type, then by language.
    /// Settings: the counts, chance level, temperature and every fine-tuning option.
    public func report(model: String, dataset: String) -> EvaluationReport {
        var metrics = ["accuracy": final.accuracy, "zero_shot_accuracy": zeroShot.accuracy]
        let types = zeroShot.byType.keys.sorted()
        for type in types {
            metrics["accuracy_\(type.rawValue)"] = final.accuracy(type)
            metrics["zero_shot_accuracy_\(type.rawValue)"] = zeroShot.accuracy(type)
        }
        var settings = [
            "test_questions": String(testQuestions),
            "chance": String(format: "%.4f", chance),
            "logit_scale": String(format: "%.3f", scale),
            "fine_tuned": fineTuning == nil ? "no" : "yes",
        ]
        if let fineTuning {
            let options = fineTuning.configuration
            settings["train_questions"] = String(fineTuning.trainQuestions)
            settings["steps"] = String(options.steps)
            settings["learning_rate"] = String(options.learningRate)
            settings["weight_decay"] = String(options.weightDecay)
            settings["train_batch_size"] = String(options.batchSize)
            settings["freeze_batch_norm"] = String(options.freezeBatchNorm)
            settings["trainable_image_blocks"] = options.trainableImageBlocks.map(String.init) ?? "all"
            settings["trainable_text_layers"] = options.trainableTextLayers.map(String.init) ?? "all"
            settings["gradient_clip"] = options.gradientClip.map { String($0) } ?? "none"
            settings["seed"] = String(options.seed)
            settings["training_seconds"] = String(format: "%.1f", fineTuning.seconds)
            if let first = fineTuning.losses.first, let last = fineTuning.losses.last {
                settings["loss_first_step"] = String(format: "%.4f", first)
                settings["loss_last_step"] = String(format: "%.4f", last)
            }
        }
        return EvaluationReport(
            task: "vqa", model: model, dataset: dataset, metrics: metrics, settings: settings,
            tables: [table(title: "Accuracy by question type (%)", label: "type", rows: types.map { type in
                (type.rawValue, zeroShot.byType[type]!, fineTuned?.byType[type])
            }), table(title: "Accuracy by language (%)", label: "language", rows: zeroShot.byLanguage.keys.sorted().map { language in
                (language.isEmpty ? "unknown" : language, zeroShot.byLanguage[language]!, fineTuned?.byLanguage[language])
            })])
    }

    /// Rows of (label, zero-shot count, fine-tuned count), then an "all" row.
    private func table(
        title: String, label: String, rows: [(String, AnswerCount, AnswerCount?)]
    ) -> ReportTable {
        func cells(_ name: String, _ zeroShot: AnswerCount, _ fineTuned: AnswerCount?) -> [String] {
            [
                name, String(zeroShot.total), EvaluationReport.percent(zeroShot.accuracy),
                fineTuned.map { EvaluationReport.percent($0.accuracy) } ?? "–",
            ]
        }
        return ReportTable(
            title: title, columns: [label, "questions", "zero-shot", "fine-tuned"],
            rows: rows.map { cells($0.0, $0.1, $0.2) } + [cells("all", zeroShot.overall, fineTuned?.overall)])
    }
}
