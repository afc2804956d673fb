import ArgumentParser
import BriVLInference
import BriVLSearch
import Foundation

extension BriVL {
    struct IndexCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "index",
            abstract: "Index a photo folder for search (incremental: only new and changed images are embedded).",
            discussion: """
                Walks the folder recursively (JPEG, PNG, WebP; a `.txt` file beside an image is its caption), embeds \
                in batches and writes a new index generation, switched to atomically at the end: an interrupted run \
                leaves the previous index usable. Unreadable images are listed and skipped.
                """)

        @OptionGroup var engine: EngineOptions

        @Option(help: "A run folder or one of its step-… checkpoint folders.")
        var checkpoint: String

        @Option(help: "The photo folder to index.")
        var images: String

        @Option(help: "The index folder (created if needed).")
        var index: String = SearchDefaults.indexPath

        @Option(help: "Index structure: auto (exact up to \(IndexKind.automaticThreshold) images, then IVF), flat, ivf or hnsw.")
        var kind: String = "auto"

        @Option(help: "Images embedded per forward pass.")
        var batchSize: Int = IndexingOptions().batchSize

        @Flag(help: "Print the report as JSON on standard output.")
        var json = false

        func validate() throws {
            if kind != "auto" && IndexKind(rawValue: kind) == nil {
                throw ValidationError("--kind must be auto, flat, ivf or hnsw, got \(kind)")
            }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() throws {
            let trained = try engine.loadTrainedModel(checkpoint)
            let options = IndexingOptions(kind: IndexKind(rawValue: kind), batchSize: batchSize)
            let indexer = CollectionIndexer(
                directory: IndexDirectory(path: index), embedder: ModelEmbedder(trained), options: options)
            let progress = ProgressBar("embedding")
            let report = try indexer.update(root: images) { state in
                progress.update(state.embedded, total: state.toEmbed, detail: state.unreadable > 0 ? "\(state.unreadable) unreadable" : "")
            }
            progress.finish(report.embedded + report.unreadable.count)
            if json {
                print(try SearchDefaults.jsonString(report))
                return
            }
            print(
                "index \(index) generation \(report.generation) (\(report.kind.rawValue)): \(report.total) images; "
                    + "\(report.added) added, \(report.changed) changed, \(report.touched) touched, "
                    + "\(report.unchanged) unchanged, \(report.removed) removed; \(report.embedded) embedded")
            if !report.unreadable.isEmpty {
                print("\(report.unreadable.count) unreadable images (skipped, retried next run):")
                for failure in report.unreadable.prefix(20) { print("  \(failure.path): \(failure.reason)") }
                if report.unreadable.count > 20 { print("  … and \(report.unreadable.count - 20) more") }
            }
        }
    }
}

/// Defaults and output helpers the search commands share.
enum SearchDefaults {
    static let indexPath = "brivl-index"

    static func jsonString(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
