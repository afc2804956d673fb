import ArgumentParser
import BriVLData
import Foundation

extension BriVL {
    struct Shard: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import image–text pairs into WebDataset shards.",
            subcommands: [FromFolder.self, FromChineseCLIP.self])
    }

    /// Output options shared by the importers.
    struct ShardOutputOptions: ParsableArguments {
        @Option(name: .shortAndLong, help: "Directory for the shards and their index.")
        var output: String

        @Option(help: "Shard file name prefix (<prefix>-000000.tar).")
        var prefix: String = "pairs"

        @Option(help: "Samples per shard.")
        var samplesPerShard: Int = 1000

        @Option(help: "Also start a new shard past this many megabytes.")
        var maxShardMegabytes: Int = 1024

        @Option(help: "Where to list rejected inputs as JSON lines (default: <output>/<prefix>-rejects.jsonl).")
        var rejects: String?

        func validate() throws {
            if samplesPerShard < 1 { throw ValidationError("--samples-per-shard must be at least 1") }
            if maxShardMegabytes < 1 { throw ValidationError("--max-shard-megabytes must be at least 1") }
        }

        var writer: ShardWriter.Configuration {
            .init(directory: output, prefix: prefix, samplesPerShard: samplesPerShard, maxShardBytes: maxShardMegabytes << 20)
        }

        var rejectsPath: String { rejects ?? (output as NSString).appendingPathComponent("\(prefix)-rejects.jsonl") }

        /// Runs an importer with a progress bar, then prints its report.
        func runImport(_ body: (_ progress: (Int, Int) -> Void) throws -> ImportReport) throws {
            let progress = ProgressBar("importing")
            var last = 0
            let report = try body { done, total in
                last = done
                progress.update(done, total: total)
            }
            progress.finish(last)
            printReport(report)
        }

        func printReport(_ report: ImportReport) {
            print("pairs in input   \(report.inputs)")
            print("written          \(report.written) in \(report.shards.count) shard(s) under \(output)")
            print("rejected         \(report.rejectedCount)" + (report.rejectedCount > 0 ? " (listed in \(rejectsPath))" : ""))
            for (reason, count) in report.rejected.sorted(by: { $0.key < $1.key }) {
                print("  \(reason.padding(toLength: 16, withPad: " ", startingAt: 0)) \(count)")
            }
            if report.invalidCaptionLines > 0 {
                print("unparsable caption lines  \(report.invalidCaptionLines) (listed in \(rejectsPath))")
            }
        }
    }

    struct FromFolder: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "folder",
            abstract: "A folder of images plus a caption file (jsonl, csv with image/text columns, or tsv).")

        @Option(help: "The folder of images; caption paths are relative to it.")
        var images: String

        @Option(help: "The caption file.")
        var captions: String

        @Option(help: "Caption file format (default: from its extension).")
        var format: CaptionFormatArgument?

        @OptionGroup var output: ShardOutputOptions

        func run() throws {
            let importer = FolderImporter(
                try .init(
                    imageDirectory: images, captionFile: captions, captionFormat: format?.format, output: output.writer,
                    rejectsFile: output.rejectsPath))
            try output.runImport { try importer.run(progress: $0) }
        }
    }

    struct FromChineseCLIP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cn-clip",
            abstract: "The Chinese-CLIP layout: a TSV of image_id<TAB>base64 and a JSON-lines file of texts with image_ids.")

        @Option(help: "The image TSV.")
        var imagesTsv: String

        @Option(help: "The texts JSON-lines file.")
        var texts: String

        @OptionGroup var output: ShardOutputOptions

        func run() throws {
            let importer = ChineseCLIPImporter(
                .init(imagesTSV: imagesTsv, textsJSONL: texts, output: output.writer, rejectsFile: output.rejectsPath))
            try output.runImport { try importer.run(progress: $0) }
        }
    }
}

/// `--format` values.
struct CaptionFormatArgument: ExpressibleByArgument {
    let format: CaptionFormat

    init?(argument: String) {
        guard let format = CaptionFormat(rawValue: argument.lowercased()) else { return nil }
        self.format = format
    }

    static var allValueStrings: [String] { CaptionFormat.allCases.map(\.rawValue) }
}
