import ArgumentParser
import BriVLEvaluation
import BriVLInference
import Foundation

extension BriVL {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Evaluate a trained model: zero-shot classification, retrieval, VQA, linear probes.",
            discussion: """
                Every evaluation prints its table and writes <name>.json (stable snake_case keys, fractions) and \
                <name>.md into --output; `brivl eval report` merges several into one page.
                """,
            subcommands: [
                ZeroShot.self, SeenUnseen.self, TextClassification.self, Retrieval.self, TextSearch.self, VQA.self,
                Factors.self,
                LinearProbeCommand.self, EvalReport.self,
            ])
    }
}

/// What every evaluation command takes: the model to evaluate and where its report goes.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "A run folder (its latest checkpoint) or one step-… checkpoint folder.")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Folder for the report files.")
    var output: String = "eval"

    @Option(help: "Report file name, without extension (default: the task's name).")
    var name: String?

    @Option(help: "Images or texts per forward pass.")
    var batchSize: Int = 128

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    /// Applies the engine options and loads the model, saying what was loaded.
    func loadModel() throws -> TrainedModel {
        try engine.loadTrainedModel(checkpoint)
    }

    /// Prints the report's tables and writes its files.
    func publish(_ report: EvaluationReport, defaultName: String) throws {
        for table in report.tables.prefix(1) { print(table.plainText()) }
        let metrics = report.metrics.keys.sorted().map { "\($0) \(EvaluationReport.percent(report.metrics[$0]!))" }
        if !metrics.isEmpty { print(metrics.joined(separator: "  ")) }
        if !report.skipped.isEmpty { print("skipped \(report.skipped.count) inputs (listed in the report)") }
        let paths = try report.write(to: output, basename: name ?? defaultName)
        print("report: \(paths.json), \(paths.markdown)")
    }
}

extension BriVL.Eval {
    struct EvalReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Merge evaluation reports (*.json) into one Markdown page.")

        @Argument(help: "Report files written by `brivl eval …`, or folders holding them.")
        var reports: [String]

        @Option(name: .shortAndLong, help: "The Markdown page to write (default: print it).")
        var output: String?

        @Option(help: "The page's title.")
        var title: String = "Evaluation report"

        func validate() throws {
            guard !reports.isEmpty else { throw ValidationError("give at least one report file or folder") }
        }

        func run() throws {
            let paths = try ReportCollection.expand(reports)
            let loaded = try paths.map { try EvaluationReport.read(from: $0) }
            let names = paths.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
            let collection = ReportCollection(title: title, reports: loaded, names: names)
            let page = collection.markdown()
            if let output {
                try Data(page.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                print(collection.summary().plainText())
                print("merged \(loaded.count) reports into \(output)")
            } else {
                print(page, terminator: "")
            }
        }
    }
}
