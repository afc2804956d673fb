import ArgumentParser
import BriVLEvaluation
import BriVLInference
import FashionCorpora
import Foundation

extension BriVL.Eval {
    struct Factors: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "factors",
            abstract: "Which caption factors a model tells apart on the caption corpus: class, colour, place.",
            discussion: """
                For each single-item image of a caption corpus's zero-shot/ split, the item's true caption in the \
                first training template of each language competes with the same caption with only its class (10 \
                candidates), its colour (the training colours) or its place (9) changed. A factor far above the \
                others is the shortcut the model matches on; one near chance is one it ignores. Also reports the \
                items' size at the image tower's input and the nearest neighbours of the class names' text \
                embeddings. Reads the corpus's corpus.json beside the split for the held-out factors.
                """)

        @OptionGroup var evaluation: EvaluationOptions

        @Option(help: "The corpus's zero-shot/ shard folder (single items with labels, colours and places).")
        var images: String

        @Option(help: "Use at most this many images.")
        var limit: Int = 1000

        func run() throws {
            let manifestPath = ((images as NSString).deletingLastPathComponent as NSString)
                .appendingPathComponent(FashionCaptionCorpus.manifestFile)
            let manifest = try FashionCaptionManifest.read(from: manifestPath)
            let reserved = FashionCaptionReservation(
                chineseTemplates: manifest.reserved.chineseTemplates, englishTemplates: manifest.reserved.englishTemplates,
                colours: manifest.reserved.colours, positionPairs: [])
            let templates = FashionFactorQuestions.templates(heldOut: reserved)
            let trainingColours = TintColour.palette.filter { !reserved.colours.contains($0.english) }

            let trained = try evaluation.loadModel()
            let imageSize = trained.model.configuration.image.imageSize
            let progress = ProgressBar("images", total: limit)
            let set = try CaptionedImageSet.load(
                directory: images, imageSize: imageSize, pipeline: trained.preprocessing, limit: limit,
                progress: { progress.update($0) })
            progress.finish(set.keys.count, detail: set.skipped.isEmpty ? "" : "\(set.skipped.count) skipped")

            var questions: [FactorProbe.Question] = []
            var sides: [Double] = []
            for (index, metadata) in set.metadata.enumerated() {
                let item = try Self.item(metadata, key: set.keys[index])
                for question in FashionFactorQuestions.questions(for: item, templates: templates, colours: trainingColours) {
                    questions.append(
                        FactorProbe.Question(
                            image: index, factor: question.factor.rawValue, candidates: question.candidates,
                            answer: question.answer))
                }
                if let box = metadata["boxes"]?.split(separator: ";").first?.split(separator: ","), box.count == 3,
                    let side = Double(box[2])
                {
                    sides.append(side * Double(imageSize) / Double(manifest.imageSize))
                }
            }
            let embedder = TowerEmbedder(model: trained.model, tokenizer: trained.tokenizer, batchSize: evaluation.batchSize)
            let probe = FactorProbe(embedder: embedder)
            let results = try probe.evaluate(images: set.images, questions: questions)

            var tables: [ReportTable] = []
            var settings = [
                "templates": templates.map(\.id).joined(separator: ","), "images": String(set.keys.count),
                "colours": trainingColours.map(\.english).joined(separator: ","),
            ]
            if !sides.isEmpty {
                let mean = sides.reduce(0, +) / Double(sides.count)
                settings["item_side_px"] = String(format: "%.1f", mean)
                var row = [String(imageSize), String(format: "%.1f", mean), String(format: "%.0f–%.0f", sides.min()!, sides.max()!)]
                if let stride = trained.model.configuration.image.resnet?.outputStride {
                    row.append(String(format: "%.1f", mean / Double(stride)) + " (stride \(stride))")
                } else if let patch = trained.model.configuration.image.vit?.patchSize {
                    row.append(String(format: "%.1f", mean / Double(patch)) + " (patch \(patch))")
                }
                tables.append(
                    ReportTable(
                        title: "Item size at the tower's input",
                        columns: ["input px", "mean item side px", "range", "feature cells per side"], rows: [row]))
            }
            for (title, words) in [
                ("class names (zh)", FashionMNIST.classes.map(\.chinese)),
                ("class names (en)", FashionMNIST.classes.map(\.english)),
                ("colour names (zh)", trainingColours.map(\.chinese)),
            ] {
                let (nearest, meanCosine) = try probe.neighbours(of: words)
                tables.append(
                    ReportTable(
                        title: "Text embeddings of the \(title): nearest neighbour (mean cosine between names "
                            + String(format: "%.3f", meanCosine) + ")",
                        columns: ["name", "nearest", "cosine"],
                        rows: nearest.map { [$0.word, $0.neighbour, String(format: "%.3f", $0.cosine)] }))
                settings["mean_cosine_" + title.replacingOccurrences(of: " ", with: "_")] = String(format: "%.4f", meanCosine)
            }
            var report = results.report(
                model: trained.source.identity, dataset: images, settings: settings, extraTables: tables)
            report.skipped = set.skipped
            try evaluation.publish(report, defaultName: "factors")
            for table in report.tables.dropFirst() { print("\n" + table.plainText()) }
        }

        /// The single item a zero-shot record describes.
        static func item(_ metadata: [String: String], key: String) throws -> CaptionedItem {
            func field(_ name: String) throws -> String {
                guard let value = metadata[name], !value.isEmpty, !value.contains(",") else {
                    throw ValidationError(
                        "sample \(key) has no single-item `\(name)` metadata: factors need the caption corpus's zero-shot/ split")
                }
                return value
            }
            guard let label = Int(try field("labels")), FashionMNIST.classes.indices.contains(label) else {
                throw ValidationError("sample \(key): `labels` is not a Fashion-MNIST class")
            }
            guard let colour = TintColour.named(try field("colours")) else {
                throw ValidationError("sample \(key): unknown colour '\(metadata["colours"] ?? "")'")
            }
            guard let position = GridPosition(id: try field("positions")) else {
                throw ValidationError("sample \(key): unknown place '\(metadata["positions"] ?? "")'")
            }
            return CaptionedItem(kind: FashionMNIST.classes[label], colour: colour, position: position)
        }
    }
}
