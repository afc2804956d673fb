import ArgumentParser
import BriVLEvaluation
import BriVLInference
import Foundation
import Imaging

/// Where the labelled images come from and how classes become prompts.
struct LabelledImageOptions: ParsableArguments {
    @Option(
        help: """
            Labelled images: a shard folder (class in each sample's `label` metadata), a list file \
            (`path<TAB>class` per line) or a folder with one sub-folder per class.
            """)
    var images: String

    @Option(
        help: """
            Class file: `label<TAB>name<TAB>name…` per line (Chinese names go into Chinese templates, others into \
            English ones), or the caption corpus's classes.json. Default: classes.json in or beside a shard folder, \
            the sub-folder names, or the list file's labels.
            """)
    var classes: String?

    @Option(
        help: "Prompt template file (one template with {} per line), or `default` for our built-in templates. Default: a classes.json's own prompts, else the built-in templates."
    )
    var templates: String?

    @Option(help: "Prompt language: zh, en or both.")
    var language: String = "both"

    @Option(help: "Use at most this many images.")
    var limit: Int?

    func resolveClasses() throws -> ClassPrompts {
        let templateSet: PromptTemplates? =
            switch templates {
            case nil: nil
            case "default": PromptTemplates.images
            case let path?: try PromptTemplates.read(from: path)
            }
        return try ClassPrompts.resolve(forImages: images, classFile: classes, templates: templateSet)
            .keeping(language: language)
    }

    func load(classes: ClassPrompts, imageSize: Int, pipeline: ImagePipeline? = nil) throws -> LabelledImageSet {
        let progress = ProgressBar("images", total: limit)
        let set = try LabelledImageSet.load(
            path: images, classes: classes, imageSize: imageSize, pipeline: pipeline, limit: limit ?? .max,
            progress: { progress.update($0) })
        progress.finish(set.count, detail: set.skipped.isEmpty ? "" : "\(set.skipped.count) skipped")
        return set
    }
}

extension BriVL.Eval {
    struct ZeroShot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "zero-shot",
            abstract: "Zero-shot image classification: top-1/top-5, per-class accuracy, confusion matrix.",
            discussion: """
                Each class is the normalised mean text embedding of its prompts; each image gets the most similar \
                class. Writes the report and <name>-confusion.svg.
                """)

        @OptionGroup var evaluation: EvaluationOptions
        @OptionGroup var data: LabelledImageOptions

        func run() throws {
            let trained = try evaluation.loadModel()
            let classes = try data.resolveClasses()
            let images = try data.load(
                classes: classes, imageSize: trained.model.configuration.image.imageSize, pipeline: trained.preprocessing)
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let result = try ZeroShotImageClassification(embedder: embedder).evaluate(images: images, classes: classes)
            let name = evaluation.name ?? "zero-shot"
            let picture = name + "-confusion.svg"
            try FileManager.default.createDirectory(atPath: evaluation.output, withIntermediateDirectories: true)
            try Data(
                ConfusionMatrixPicture.svg(
                    confusion: result.metrics.confusion, classNames: classes.displayNames,
                    title: "Zero-shot confusion matrix (rows: true class)"
                ).utf8
            ).write(to: URL(fileURLWithPath: (evaluation.output as NSString).appendingPathComponent(picture)))
            var report = result.report(
                model: trained.source.identity, dataset: data.images,
                settings: [
                    "prompts_per_class": String(classes.prompts.map(\.count).max() ?? 0), "language": data.language,
                ],
                confusionPicture: picture)
            report.skipped = images.skipped
            try evaluation.publish(report, defaultName: "zero-shot")
        }
    }

    struct SeenUnseen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seen-unseen",
            abstract: "Zero-shot accuracy on unseen classes after adapting on seen ones, over random class splits.",
            discussion: """
                For each unseen/seen ratio (WenLan 2.0's remote-sensing protocol, e.g. 30/0, 8/22, 12/18 for 30 \
                classes), --splits random class splits: the image tower's embedding head is fine-tuned on the seen \
                classes' images against their frozen prompt embeddings, then the unseen classes' images are \
                classified among the unseen classes. Reports mean ± std over splits, beside the accuracy without \
                adaptation on the same splits.
                """)

        @OptionGroup var evaluation: EvaluationOptions
        @OptionGroup var data: LabelledImageOptions

        @Option(help: "Comma-separated unseen/seen ratios; unseen + seen must equal the class count (default: all unseen, then thirds).")
        var ratios: String?

        @Option(help: "Random class splits per ratio.") var splits: Int = 5
        @Option(help: "Adaptation steps on the seen classes per split.") var steps: Int = 100
        @Option(name: .customLong("lr"), help: "Adaptation learning rate.") var learningRate: Double = 1e-4
        @Option(help: "Seed of the class splits and batches.") var seed: UInt64 = 0

        func validate() throws {
            guard splits >= 1, steps >= 0, learningRate > 0 else {
                throw ValidationError("--splits ≥ 1, --steps ≥ 0 and --lr > 0 are needed")
            }
        }

        func run() throws {
            let trained = try evaluation.loadModel()
            let classes = try data.resolveClasses()
            let images = try data.load(
                classes: classes, imageSize: trained.model.configuration.image.imageSize, pipeline: trained.preprocessing)
            let count = classes.count
            let parsed = try ratios.map { try $0.split(separator: ",").map { try ClassSplit.Ratio(parsing: String($0)) } }
                ?? [
                    ClassSplit.Ratio(unseen: count, seen: 0),
                    ClassSplit.Ratio(unseen: Swift.max(1, count / 3), seen: count - Swift.max(1, count / 3)),
                    ClassSplit.Ratio(unseen: Swift.max(1, count / 2), seen: count - Swift.max(1, count / 2)),
                ]
            var adaptation = SeenUnseenEvaluation.Adaptation()
            adaptation.steps = steps
            adaptation.learningRate = learningRate
            adaptation.seed = seed
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let progress = ProgressBar("splits")
            let results = try SeenUnseenEvaluation(embedder: embedder, adaptation: adaptation).evaluate(
                images: images, classes: classes, ratios: parsed, splitsPerRatio: splits,
                progress: { progress.update($0, total: $1) })
            progress.finish(results.reduce(0) { $0 + $1.splits.count })
            var report = SeenUnseenEvaluation.report(
                results, model: trained.source.identity, dataset: data.images, classes: classes,
                settings: [
                    "splits": String(splits), "adaptation_steps": String(steps), "learning_rate": String(learningRate),
                    "seed": String(seed), "adapted": "image embedding head", "images": String(images.count),
                ])
            report.skipped = images.skipped
            try evaluation.publish(report, defaultName: "seen-unseen")
        }
    }

    struct LinearProbeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "linear-probe",
            abstract: "Logistic regression on frozen image embeddings, few-shot (k per class) and full.",
            discussion: """
                With --test, --images is the training side; without it, --images is split per class into a \
                training and a test side (--test-fraction). Each k is drawn --trials times.
                """)

        @OptionGroup var evaluation: EvaluationOptions
        @OptionGroup var data: LabelledImageOptions

        @Option(help: "Labelled test images (same layouts as --images).") var test: String?
        @Option(help: "Fraction of each class held out for testing when no --test is given.") var testFraction: Double = 0.5
        @Option(help: "Comma-separated shots per class; `all` uses every training image.") var shots: String = "1,5,16,all"
        @Option(help: "Draws per shot count.") var trials: Int = 5
        @Option(help: "Optimizer steps per probe (full batch).") var steps: Int = 500
        @Option(name: .customLong("lr"), help: "AdamW learning rate.") var learningRate: Double = 0.05
        @Option(help: "AdamW weight decay.") var weightDecay: Double = 1e-4
        @Option(help: "Seed of the split and the draws.") var seed: UInt64 = 0

        func validate() throws {
            guard (0.05...0.95).contains(testFraction), trials >= 1, steps >= 1 else {
                throw ValidationError("--test-fraction must lie in 0.05…0.95, --trials and --steps at least 1")
            }
        }

        func run() throws {
            let trained = try evaluation.loadModel()
            let classes = try data.resolveClasses()
            let size = trained.model.configuration.image.imageSize
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let shotCounts = try shots.split(separator: ",").map { part -> Int? in
                if part == "all" { return nil }
                guard let k = Int(part), k >= 1 else { throw ValidationError("--shots takes counts ≥ 1 and `all`, got \(part)") }
                return k
            }
            let first = try data.load(classes: classes, imageSize: size, pipeline: trained.preprocessing)
            let trainSet: LabelledImageSet
            let testSet: LabelledImageSet
            if let test {
                trainSet = first
                var testOptions = data
                testOptions.images = test
                testOptions.limit = nil
                testSet = try testOptions.load(classes: classes, imageSize: size, pipeline: trained.preprocessing)
            } else {
                let split = LinearProbe.stratifiedSplit(
                    labels: first.labels, classes: classes.count, testFraction: testFraction, seed: seed)
                trainSet = try first.selecting(split.train)
                testSet = try first.selecting(split.test)
            }
            var settings = LinearProbe.Settings()
            settings.steps = steps
            settings.learningRate = learningRate
            settings.weightDecay = weightDecay
            settings.seed = seed
            let progress = ProgressBar("probes")
            let results = try LinearProbeEvaluation(probe: LinearProbe(settings: settings)).evaluate(
                train: (try embedder.embedImages(trainSet.images), trainSet.labels),
                test: (try embedder.embedImages(testSet.images), testSet.labels), classes: classes.count,
                shots: shotCounts, trials: trials, progress: { progress.update($0, total: $1) })
            progress.finish(results.reduce(0) { $0 + $1.accuracies.count })
            var report = LinearProbeEvaluation.report(
                results, model: trained.source.identity, dataset: test.map { "\(data.images) → \($0)" } ?? data.images,
                testImages: testSet.count, classes: classes.count,
                settings: [
                    "features": "image embedding", "steps": String(steps), "learning_rate": String(learningRate),
                    "weight_decay": String(weightDecay), "seed": String(seed), "training_pool": String(trainSet.count),
                ])
            report.skipped = trainSet.skipped + (test == nil ? [] : testSet.skipped)
            try evaluation.publish(report, defaultName: "linear-probe")
        }
    }
}
