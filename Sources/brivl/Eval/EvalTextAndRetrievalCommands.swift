import ArgumentParser
import BriVL
import BriVLEvaluation
import BriVLInference
import Foundation
import Torch

extension BriVL.Eval {
    struct TextClassification: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "text-classification",
            abstract: "Zero-shot text classification with the text tower alone, against a baseline text tower.",
            discussion: """
                Reads `label<TAB>text` lines (the THUCNews headlines, whose categories have built-in Chinese names). \
                Each text goes to the class whose prompt embeddings' mean is closest. --baseline initial compares \
                with the same model before image–text pretraining (its initial weights, from the run's seed); \
                --baseline PATH with another checkpoint.
                """)

        @OptionGroup var evaluation: EvaluationOptions

        @Option(help: "The `label<TAB>text` file.") var texts: String
        @Option(help: "Class file (`label<TAB>name…`); default: the built-in THUCNews names, or the labels themselves.")
        var classes: String?
        @Option(help: "Template file, or `default` (built-in news templates).") var templates: String = "default"
        @Option(help: "Prompt language: zh, en or both.") var language: String = "zh"
        @Option(help: "`initial`, a checkpoint, or `none`.") var baseline: String = "initial"
        @Option(help: "Use at most this many texts.") var limit: Int?

        func run() throws {
            let trained = try evaluation.loadModel()
            let templateSet = templates == "default" ? PromptTemplates.news : try PromptTemplates.read(from: templates)
            let classList = try (classes.map { try ClassPrompts.read(classFile: $0, templates: templateSet) }
                ?? NewsCategories.classes(for: LabelledTexts.labels(in: texts), templates: templateSet))
                .keeping(language: language)
            let data = try LabelledTexts.read(from: texts, classes: classList, limit: limit ?? .max)
            FileHandle.standardError.write(Data("\(data.count) texts, \(classList.count) classes\n".utf8))
            let task = ZeroShotTextClassification()
            let ours = try task.evaluate(
                texts: data, classes: classList,
                with: TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize))
            var baselineResult: ZeroShotTextClassification.Result?
            var baselineName: String?
            if baseline != "none" {
                let (model, name) = try baselineModel(for: trained)
                baselineResult = try task.evaluate(
                    texts: data, classes: classList,
                    with: TowerEmbedder(model: model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize))
                baselineName = name
            }
            let report = ZeroShotTextClassification.report(
                model: ours, baseline: baselineResult, modelName: trained.source.identity, baselineName: baselineName,
                dataset: texts,
                settings: ["language": language, "prompts_per_class": String(classList.prompts.map(\.count).max() ?? 0)])
            try evaluation.publish(report, defaultName: "text-classification")
        }

        /// The baseline text tower: the run's initial weights, or another checkpoint's.
        private func baselineModel(for trained: TrainedModel) throws -> (BriVLModel, String) {
            guard baseline == "initial" else {
                let other = try TrainedModel(path: baseline)
                guard other.tokenizer.vocabularySize == trained.tokenizer.vocabularySize else {
                    throw ValidationError("the baseline's vocabulary differs from the model's; texts would be tokenised differently")
                }
                return (other.model, other.source.identity)
            }
            let (model, seed) = try BaselineModel.initialWeights(of: trained)
            return (model, "initial weights (seed \(seed)) of \(trained.model.configuration.name)")
        }
    }

    struct Retrieval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retrieval",
            abstract: "Image→text and text→image recall@1/5/10 and mean recall, with every caption of each image.",
            discussion: """
                An image counts as found for a caption when it is the caption's own image; a caption counts as \
                found for an image when any of the image's captions is among the top k.
                """)

        @OptionGroup var evaluation: EvaluationOptions

        @Option(help: "Folder of WebDataset shards (image + caption record with one or more texts).") var shards: String
        @Option(help: "Use at most this many images.") var limit: Int = 1000
        @Option(help: "Keep at most this many captions per image (default: all).") var captionsPerImage: Int?
        @Option(help: "Comma-separated recall cut-offs.") var ks: String = "1,5,10"

        func run() throws {
            let cutoffs = try ks.split(separator: ",").map { part -> Int in
                guard let k = Int(part), k >= 1 else { throw ValidationError("--ks takes counts ≥ 1, got \(part)") }
                return k
            }
            let trained = try evaluation.loadModel()
            let progress = ProgressBar("pairs", total: limit)
            let set = try CaptionedImageSet.load(
                directory: shards, imageSize: trained.model.configuration.image.imageSize,
                pipeline: trained.preprocessing, limit: limit,
                captionsPerImage: captionsPerImage, progress: { progress.update($0) })
            progress.finish(set.keys.count, detail: set.skipped.isEmpty ? "" : "\(set.skipped.count) skipped")
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let metrics = try RetrievalMetrics.measure(
                images: embedder.embedImages(set.images), texts: embedder.embedTexts(set.captions), owners: set.owners,
                ks: cutoffs)
            let report = metrics.report(
                model: trained.source.identity, dataset: shards,
                settings: ["captions_per_image": captionsPerImage.map(String.init) ?? "all"], skipped: set.skipped)
            try evaluation.publish(report, defaultName: "retrieval")
        }
    }
}
