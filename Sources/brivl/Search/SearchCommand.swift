import ArgumentParser
import BriVLEvaluation
import BriVLInference
import BriVLSearch
import Foundation

extension BriVL {
    struct SearchCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "Search an index by text or by image, or tag the whole collection with zero-shot classes.",
            discussion: """
                Exactly one of --text, --image and --classify. The class file of --classify has one class per line, \
                `label<TAB>中文名<TAB>english name` (the names go into the built-in prompt templates).
                """)

        @OptionGroup var engine: EngineOptions

        @Option(help: "The run folder or checkpoint the index was built with.")
        var checkpoint: String

        @Option(help: "The index folder.")
        var index: String = SearchDefaults.indexPath

        @Option(help: "Text query (Chinese or English).")
        var text: String?

        @Option(help: "Query image: find the most similar images.")
        var image: String?

        @Option(help: "Class file: tag every image of the collection with its most similar class.")
        var classify: String?

        @Option(name: .customShort("k"), help: "Results to return.")
        var k: Int = 10

        @Option(help: "Only images whose path (relative to the indexed folder) starts with this.")
        var pathPrefix: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            if [text, image, classify].compactMap({ $0 }).count != 1 {
                throw ValidationError("give exactly one of --text, --image and --classify")
            }
            if !(1...100_000).contains(k) { throw ValidationError("-k must be in 1...100000, got \(k)") }
        }

        func run() throws {
            let trained = try engine.loadTrainedModel(checkpoint)
            let searcher = try Searcher(index: SearchIndex(path: index), embedder: ModelEmbedder(trained))
            let filter = SearchFilter(pathPrefix: pathPrefix)
            if let classify {
                let classes = try ClassPrompts.read(classFile: classify, templates: .images)
                try printTagging(try searcher.classify(classes))
                return
            }
            let hits: [SearchHit]
            if let text {
                hits = try searcher.search(text: text, k: k, filter: filter)
            } else {
                let path = image!
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read the query image \(path)")
                }
                hits = try searcher.search(image: data, k: k, filter: filter)
            }
            if json {
                print(try SearchDefaults.jsonString(hits))
                return
            }
            print("rank  score   path")
            for (rank, hit) in hits.enumerated() {
                let caption = hit.caption.map { "  — \($0)" } ?? ""
                print(String(format: "%4d  %.4f  ", rank + 1, hit.score) + hit.path + caption)
            }
        }

        private func printTagging(_ tagging: CollectionTagging) throws {
            if json {
                print(try SearchDefaults.jsonString(tagging))
                return
            }
            for tag in tagging.tags { print("\(tag.path)\t\(tag.label)\t\(tag.name)\t\(String(format: "%.4f", tag.score))") }
            FileHandle.standardError.write(Data("images per class:\n".utf8))
            for count in tagging.classes {
                FileHandle.standardError.write(Data("  \(count.label) \(count.name): \(count.images)\n".utf8))
            }
        }
    }
}
