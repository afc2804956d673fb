import Foundation
import Testing

@testable import BriVLEvaluation

@Suite struct EvaluationReportTests {
    private func sample() -> EvaluationReport {
        EvaluationReport(
            task: "zero_shot_classification", model: "runs/demo", dataset: "fashion zero-shot",
            metrics: ["top1": 0.5, "top5": 0.875], settings: ["prompts_per_class": "8"],
            tables: [ReportTable(title: "Per class", columns: ["class", "accuracy"], rows: [["连衣裙", "50.0"], ["a|b", "1"]])],
            attachments: ["confusion.svg"], skipped: ["x.jpg: unreadable"])
    }

    @Test func roundTripsThroughItsFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let report = sample()
        let paths = try report.write(to: directory, basename: "zero-shot")
        #expect(try EvaluationReport.read(from: paths.json) == report)
        let json = String(decoding: try Data(contentsOf: URL(fileURLWithPath: paths.json)), as: UTF8.self)
        #expect(json.contains("\"task\" : \"zero_shot_classification\""))
        #expect(json.contains("\"prompts_per_class\" : \"8\""))
        let markdown = try String(contentsOfFile: paths.markdown, encoding: .utf8)
        #expect(markdown.contains("| 50.0 | 87.5 |"))
        #expect(markdown.contains("| a\\|b | 1 |"))
    }

    @Test func refusesOtherFilesWithTheirName() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"task\": 1}".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try EvaluationReport.read(from: path)
        } throws: { error in
            guard case .invalidFile(let file, _, _) = error as? EvaluationError else { return false }
            return file == path
        }
    }

    @Test func mergedPageSummarisesEveryReport() {
        var second = sample()
        second.task = "retrieval"
        second.metrics = ["mean_recall": 0.25]
        let page = ReportCollection(title: "All", reports: [sample(), second]).markdown()
        #expect(page.hasPrefix("# All"))
        #expect(page.contains("| zero_shot_classification | fashion zero-shot | runs/demo | top1 50.0, top5 87.5 |"))
        #expect(page.contains("| retrieval | fashion zero-shot | runs/demo | mean_recall 25.0 |"))
        #expect(page.contains("## retrieval — fashion zero-shot"))
        let named = ReportCollection(title: "All", reports: [sample(), second], names: ["zero-shot", "retrieval"])
        #expect(named.summary().rows[1].prefix(2) == ["retrieval", "retrieval"])
    }

    @Test func plainTextAlignsWideCharacters() {
        let table = ReportTable(title: "t", columns: ["类别", "n"], rows: [["连衣裙", "1"], ["bag", "22"]])
        let lines = table.plainText().split(separator: "\n").map(String.init)
        #expect(lines[1] == "类别    n")
        #expect(lines[2] == "连衣裙  1")
        #expect(lines[3] == "bag     22")
    }
}
