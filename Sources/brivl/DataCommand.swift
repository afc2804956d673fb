import ArgumentParser
import BriVLData
import FashionCorpora
import Foundation
import Imaging

extension BriVL {
    struct DataCommands: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data", abstract: "Look into datasets, or generate one.",
            subcommands: [Inspect.self, FashionCaptions.self, FashionVQA.self])
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

extension BriVL {
    struct FashionCaptions: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fashion-captions",
            abstract: "Generate a Chinese–English caption corpus from Fashion-MNIST.",
            discussion: """
                Each image holds 1–3 clothing items at named places of a 3×3 layout, scaled and tinted in named \
                colours, captioned from templates in Chinese and English (左上角有一件红色的连衣裙… / a red dress in \
                the top left…). Some templates, colours and pairs of places are held out of train/ and appear only in \
                test/, whose records name the held-out factors they use, so that evaluation measures generalisation \
                rather than memorised strings. test-rephrased/ holds the test images again, captioned in a phrasing \
                family no other split uses. zero-shot/ holds single items with their class label; classes.json has \
                the class names and prompt templates, prompts-held-out.txt and prompts-bare.txt prompt sets that no \
                caption uses, corpus.json the counts and the held-out factors. The same seed gives the same corpus. Needs the dataset-fashion-mnist package (or the idx files in --source).
                """)

        /// The library's settings, where every default below comes from.
        static let defaults = FashionCaptionCorpus.Configuration(outputDirectory: "")

        @Option(name: .shortAndLong, help: "Output folder (train/, test/, zero-shot/, classes.json, corpus.json).")
        var output: String

        @Option(help: "Folder with Fashion-MNIST's idx files, .gz or not.")
        var source: String = defaults.sourceDirectory

        @Option(help: "Training pairs (items from Fashion-MNIST's training images).")
        var train: Int = defaults.trainSamples

        @Option(help: "Retrieval test pairs (items from the test images); test-rephrased/ gets as many.")
        var test: Int = defaults.testSamples

        @Option(help: "Single-item images for zero-shot classification (items from the test images).")
        var zeroShot: Int = defaults.zeroShotSamples

        @Option(help: "Side of the square images in pixels.")
        var imageSize: Int = defaults.composer.imageSize

        @Option(help: "Seed; the same seed gives the same corpus.")
        var seed: UInt64 = defaults.composer.seed

        @Option(
            help: """
                Captions per training image: `varied` (two full captions per language plus partial ones naming \
                only the things, things and colours, or things and places) or `full` (one full caption per language).
                """)
        var trainingCaptions: TrainingCaptionSet = defaults.composer.trainingCaptions

        @Flag(
            inversion: .prefixedNo,
            help: """
                Give each training caption its hard negatives: the same caption with one item's class, colour or \
                place changed (used by brivl train --hard-negatives). Images and captions are the same either way.
                """)
        var hardNegatives: Bool = defaults.composer.hardNegatives

        @Option(help: "Samples per shard.")
        var samplesPerShard: Int = defaults.samplesPerShard

        func validate() throws {
            for (name, value) in [("--train", train), ("--test", test), ("--zero-shot", zeroShot)] where value < 0 {
                throw ValidationError("\(name) must not be negative, got \(value)")
            }
            if train + test + zeroShot == 0 { throw ValidationError("nothing to generate: every count is 0") }
            if imageSize < 24 { throw ValidationError("--image-size must be at least 24, got \(imageSize)") }
            if samplesPerShard < 1 { throw ValidationError("--samples-per-shard must be at least 1") }
        }

        func run() throws {
            let corpus = FashionCaptionCorpus(
                .init(
                    sourceDirectory: source, outputDirectory: output, trainSamples: train, testSamples: test,
                    zeroShotSamples: zeroShot, composer: .init(
                        imageSize: imageSize, trainingCaptions: trainingCaptions, hardNegatives: hardNegatives,
                        seed: seed),
                    samplesPerShard: samplesPerShard))
            let start = Date()
            let progress = ProgressBar("composing")
            var written = 0
            let manifest = try corpus.run { done, total in
                written = done
                progress.update(done, total: total)
            }
            progress.finish(written)
            let seconds = Date().timeIntervalSince(start)
            print("corpus          \(output) (seed \(manifest.seed), \(manifest.imageSize)×\(manifest.imageSize) px)")
            for split in FashionCaptionSplit.allCases {
                guard let entry = manifest.splits[split.rawValue] else { continue }
                let megabytes = String(format: "%.1f MB", Double(entry.bytes) / 1_000_000)
                var line = "\(split.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(entry.samples) samples in "
                    + "\(entry.shards) shard(s), \(megabytes), items from \(entry.source)"
                if split != .train { line += ", \(entry.samplesUsingReserved) using held-out factors" }
                print(line)
            }
            let reserved = manifest.reserved
            let templates = (reserved.chineseTemplates + reserved.englishTemplates).joined(separator: ", ")
            print("held out        templates \(templates); colours \(reserved.colours.joined(separator: ", ")); "
                + "layouts \(reserved.layouts.joined(separator: ", "))")
            if let test = manifest.splits[FashionCaptionSplit.test.rawValue], !test.reservedUse.isEmpty {
                print("test use        " + test.reservedUse.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", "))
            }
            print(String(format: "time            %.1f s", seconds))
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
extension TrainingCaptionSet: ExpressibleByArgument {}
