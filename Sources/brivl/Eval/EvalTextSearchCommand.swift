import ArgumentParser
import BriVLEvaluation
import BriVLInference
import Foundation

extension BriVL.Eval {
    struct TextSearch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "text-search",
            abstract: "Text search precision@k: one query per class and language ranks every image of a shard folder.",
            discussion: """
                Each class name, put into each template (default: the name alone, e.g. 运动鞋 and "a pair of \
                sneakers"), is one query. It ranks all images, and precision@k is the share of its top k that show \
                the class: an image shows the classes listed in its `labels` metadata (comma-separated), or its \
                `label`. The report also gives each query's chance level, the share of images that show its class.
                """)

        @OptionGroup var evaluation: EvaluationOptions

        @Option(help: "Folder of WebDataset shards whose records list the classes each image shows (`labels` or `label`).")
        var shards: String

        @Option(
            help: "Class file or the caption corpus's classes.json (default: classes.json in or beside the shard folder).")
        var classes: String?

        @Option(help: "Query template file (one template with {} per line). Default: the class name alone.")
        var templates: String?

        @Option(help: "Query language: zh, en or both.")
        var language: String = "both"

        @Option(help: "Use at most this many images.")
        var limit: Int = 1000

        @Option(help: "Results judged per query.")
        var k: Int = 5

        func run() throws {
            guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") }
            let templateSet = try templates.map { try PromptTemplates.read(from: $0) }
                ?? PromptTemplates(chinese: ["{}"], english: ["{}"])
            let classPrompts = try ClassPrompts.resolve(forImages: shards, classFile: classes, templates: templateSet)
                .keeping(language: language)
            let trained = try evaluation.loadModel()
            let progress = ProgressBar("images", total: limit)
            let set = try CaptionedImageSet.load(
                directory: shards, imageSize: trained.model.configuration.image.imageSize,
                pipeline: trained.preprocessing, limit: limit, captionsPerImage: 1, progress: { progress.update($0) })
            progress.finish(set.keys.count, detail: set.skipped.isEmpty ? "" : "\(set.skipped.count) skipped")

            let labels = try set.metadata.enumerated().map { index, metadata -> Set<String> in
                guard let list = metadata["labels"] ?? metadata["label"] else {
                    throw ValidationError(
                        "sample \(set.keys[index]) in \(shards) has no `labels` or `label` metadata: text search "
                            + "needs to know which classes each image shows")
                }
                return Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
            let known = Set(classPrompts.labels)
            guard labels.contains(where: { !$0.isDisjoint(with: known) }) else {
                throw ValidationError(
                    "no image of \(shards) shows a class of the class list (labels \(classPrompts.labels.prefix(5).joined(separator: ", "))…); "
                        + "the class file does not belong to these images")
            }
            guard k <= labels.count else {
                throw ValidationError("--k \(k) is more than the \(labels.count) images")
            }
            var queries: [TextSearchPrecision.Query] = []
            for (index, prompts) in classPrompts.prompts.enumerated() {
                for prompt in prompts { queries.append(.init(text: prompt, label: classPrompts.labels[index])) }
            }
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let result = try TextSearchPrecision.measure(
                images: embedder.embedImages(set.images), queries: embedder.embedTexts(queries.map(\.text)),
                queryList: queries, labels: labels, k: k)
            let report = result.report(
                model: trained.source.identity, dataset: shards,
                settings: [
                    "templates": templates ?? "{}", "language": language, "images": String(labels.count),
                ],
                skipped: set.skipped,
                displayNames: Dictionary(uniqueKeysWithValues: zip(classPrompts.labels, classPrompts.displayNames)))
            try evaluation.publish(report, defaultName: "text-search")
        }
    }
}
