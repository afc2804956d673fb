import ArgumentParser
import BriVLData
import Foundation
import Imaging

extension BriVL {
    struct DataCommands: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data", abstract: "Look into datasets.", subcommands: [Inspect.self])
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts, size histograms and sample captions of a shard directory.")

        @Argument(help: "A directory of WebDataset shards.")
        var directory: String

        @Option(help: "How many random captions to show.")
        var examples: Int = 10

        @Option(help: "Seed for choosing the example captions.")
        var seed: UInt64 = 0

        @Flag(help: "Print the summary as JSON.")
        var json = false

        func run() throws {
            let inspector = DatasetInspector(exampleCount: examples, seed: seed, imageSize: ImageHeader.size)
            let progress = ProgressBar("reading shards")
            var shards = 0
            let summary = try inspector.inspect(directory: directory) { done, total in
                shards = done
                progress.update(done, total: total)
            }
            progress.finish(shards)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
                return
            }
            print("shards                \(summary.shards)")
            print("samples               \(summary.samples)")
            for (layout, count) in summary.layouts.sorted(by: { $0.value > $1.value }) {
                print("  \(layout.padding(toLength: 20, withPad: " ", startingAt: 0)) \(count)")
            }
            print("without image         \(summary.samplesWithoutImage)")
            print("without caption       \(summary.samplesWithoutCaption)")
            print("captions              \(summary.captions) (\(summary.captionsWithChinese) with Chinese)")
            for (name, error) in summary.shardErrors.sorted(by: { $0.key < $1.key }) { print("shard error  \(name): \(error)") }
            printHistogram("image bytes", summary.imageBytes)
            printHistogram("image width (px)", summary.imageWidths)
            printHistogram("image height (px)", summary.imageHeights)
            if summary.unreadableImageHeaders > 0 { print("unreadable image headers  \(summary.unreadableImageHeaders)") }
            printHistogram("captions per sample", summary.captionsPerSample)
            printHistogram("caption length (chars)", summary.captionCharacters)
            if !summary.exampleCaptions.isEmpty {
                print("\nexample captions:")
                for pair in summary.exampleCaptions { print("  \(pair[0])  \(pair[1])") }
            }
        }

        private func printHistogram(_ title: String, _ histogram: DatasetSummary.Histogram) {
            guard histogram.count > 0 else { return }
            print("\n\(title): min \(histogram.minimum!), mean \(String(format: "%.1f", histogram.mean)), max \(histogram.maximum!)")
            let largest = histogram.rows.map(\.count).max() ?? 1
            for row in histogram.rows {
                let bar = String(repeating: "█", count: max(1, row.count * 40 / largest))
                print("  \(String(row.lower).leftPad(9))–\(String(row.upper).padding(toLength: 9, withPad: " ", startingAt: 0)) \(bar) \(row.count)")
            }
        }
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// Image sizes from headers only (no decode), upright as the EXIF orientation says.
enum ImageHeader {
    static func size(_ data: Data) -> (width: Int, height: Int)? {
        guard let info = try? ImageDecoder.probe(data: data) else { return nil }
        return (info.uprightSize.width, info.uprightSize.height)
    }
}
