import Foundation

/// Several evaluation reports on one page: a summary table with every report's headline metrics, then each report.
public struct ReportCollection {
    public var title: String
    public var reports: [EvaluationReport]
    /// What to call each report in the summary (its file name), telling apart reports of the same task.
    public var names: [String]?

    public init(title: String, reports: [EvaluationReport], names: [String]? = nil) {
        self.title = title
        self.reports = reports
        self.names = names?.count == reports.count ? names : nil
    }

    /// One row per report: its name (when known), task, dataset, model, then its metrics as `key value` pairs.
    public func summary() -> ReportTable {
        ReportTable(
            title: "Summary", columns: (names == nil ? [] : ["report"]) + ["task", "dataset", "model", "metrics (%)"],
            rows: reports.indices.map { index in
                let report = reports[index]
                return (names.map { [$0[index]] } ?? []) + [
                    report.task, report.dataset, report.model,
                    report.metrics.keys.sorted().map { "\($0) \(EvaluationReport.format(report.metrics[$0]!))" }
                        .joined(separator: ", "),
                ]
            })
    }

    public func markdown() -> String {
        (["# \(title)", "", summary().markdown(), ""] + reports.map { $0.markdown() }).joined(separator: "\n")
    }

    /// Files as given, and the `*.json` files directly inside given folders, sorted by name.
    public static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let fileManager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw EvaluationError.io(file: path, message: "no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try fileManager.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
                guard !names.isEmpty else { throw EvaluationError.io(file: path, message: "holds no *.json reports") }
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }
}
