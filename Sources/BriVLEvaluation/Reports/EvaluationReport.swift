import Foundation

/// The result of one evaluation, in a form both machines and people read: headline metrics under stable
/// snake_case keys, the settings that produced them, and tables (per class, per question type, per split…).
/// Every `brivl eval` command writes one as `<name>.json` and `<name>.md`; `brivl eval report` merges several.
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// The report format; readers refuse versions they do not know.
    public static let formatVersion = 1

    public var format: Int
    /// E.g. "zero_shot_classification", "retrieval", "vqa", "linear_probe", "text_classification".
    public var task: String
    /// What was evaluated: a checkpoint path or a model name.
    public var model: String
    /// What it was evaluated on: a folder or file, or a dataset name.
    public var dataset: String
    /// Headline numbers, as fractions (accuracy 0.873, not 87.3), under stable keys such as "top1" or
    /// "image_to_text_r1".
    public var metrics: [String: Double]
    /// How the numbers were produced: options, counts, seeds.
    public var settings: [String: String]
    public var tables: [ReportTable]
    /// Files written beside the report (a confusion matrix picture…), relative to the report's folder.
    public var attachments: [String]
    /// Inputs that were skipped (unreadable images…), counted and named here rather than silently lost.
    public var skipped: [String]

    public init(
        task: String, model: String, dataset: String, metrics: [String: Double] = [:], settings: [String: String] = [:],
        tables: [ReportTable] = [], attachments: [String] = [], skipped: [String] = []
    ) {
        format = Self.formatVersion
        self.task = task
        self.model = model
        self.dataset = dataset
        self.metrics = metrics
        self.settings = settings
        self.tables = tables
        self.attachments = attachments
        self.skipped = skipped
    }
}

/// A table of a report: a title, column headers and rows of already-formatted cells.
public struct ReportTable: Codable, Sendable, Equatable {
    public var title: String
    public var columns: [String]
    public var rows: [[String]]

    public init(title: String, columns: [String], rows: [[String]] = []) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }

    /// A GitHub-flavoured Markdown table; `|` in cells is escaped.
    public func markdown() -> String {
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        var lines = ["**\(title)**", "", line(columns), line(columns.map { _ in "---" })]
        lines += rows.map { line($0 + Array(repeating: "", count: max(0, columns.count - $0.count))) }
        return lines.joined(separator: "\n")
    }

    /// The table as aligned plain text, for terminals.
    public func plainText() -> String {
        let all = [columns] + rows
        let widths = columns.indices.map { column in
            all.map { column < $0.count ? $0[column].displayWidth : 0 }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            columns.indices.map { column in
                let cell = column < cells.count ? cells[column] : ""
                return cell + String(repeating: " ", count: widths[column] - cell.displayWidth)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([title, line(columns)] + rows.map(line)).joined(separator: "\n")
    }
}

extension EvaluationReport {
    /// Formats a fraction as a percentage with one decimal: 0.8734 → "87.3".
    public static func percent(_ value: Double) -> String {
        value.isFinite ? String(format: "%.1f", value * 100) : "–"
    }

    /// The report as a Markdown section: a heading, the headline metrics, the settings and every table.
    public func markdown() -> String {
        var parts = ["## \(task.replacingOccurrences(of: "_", with: " ")) — \(dataset)", "", "Model: `\(model)`"]
        if !metrics.isEmpty {
            let keys = metrics.keys.sorted()
            parts += ["", ReportTable(title: "Metrics", columns: keys, rows: [keys.map { Self.format(metrics[$0]!) }])
                .markdown()]
        }
        for table in tables { parts += ["", table.markdown()] }
        if !settings.isEmpty {
            parts += ["", "Settings: " + settings.keys.sorted().map { "`\($0)`=\(settings[$0]!)" }.joined(separator: ", ")]
        }
        for attachment in attachments { parts += ["", "![\(attachment)](\(attachment))"] }
        if !skipped.isEmpty { parts += ["", "Skipped \(skipped.count): " + skipped.prefix(20).joined(separator: "; ")] }
        return parts.joined(separator: "\n") + "\n"
    }

    /// Metrics are fractions; counts and other values print as they are.
    static func format(_ value: Double) -> String {
        (0...1).contains(value) ? percent(value) : String(format: "%.4g", value)
    }

    /// Writes `<basename>.json` and `<basename>.md` into `directory` (created if missing); returns both paths.
    @discardableResult
    public func write(to directory: String, basename: String) throws -> (json: String, markdown: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let json = (directory as NSString).appendingPathComponent(basename + ".json")
        let markdownPath = (directory as NSString).appendingPathComponent(basename + ".md")
        try encoded().write(to: URL(fileURLWithPath: json), options: .atomic)
        try Data(markdown().utf8).write(to: URL(fileURLWithPath: markdownPath), options: .atomic)
        return (json, markdownPath)
    }

    /// Pretty, key-sorted JSON: stable for diffs and scripts. Field names are single words and metric keys are
    /// written snake_case by the evaluations, so no key conversion is applied (it would also rewrite metric keys).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    /// Reads a report written by ``write(to:basename:)``.
    public static func read(from path: String) throws -> EvaluationReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.io(file: path, message: "cannot read the report")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let report: EvaluationReport
        do {
            report = try decoder.decode(EvaluationReport.self, from: data)
        } catch {
            throw EvaluationError.invalidFile(file: path, line: nil, message: "not an evaluation report: \(error)")
        }
        guard report.format == formatVersion else {
            throw EvaluationError.invalidFile(
                file: path, line: nil, message: "report format \(report.format), this build reads \(formatVersion)")
        }
        return report
    }
}

extension String {
    /// Columns the text takes in a terminal: CJK ideographs and full-width forms take two.
    var displayWidth: Int {
        unicodeScalars.reduce(0) { width, scalar in
            switch scalar.value {
            case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
                0xFFE0...0xFFE6, 0x20000...0x3FFFD:
                return width + 2
            default:
                return width + 1
            }
        }
    }
}
