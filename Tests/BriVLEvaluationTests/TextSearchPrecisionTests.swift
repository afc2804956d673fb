import Foundation
import Testing
import Torch

@testable import BriVLEvaluation

@Suite("Text search precision@k")
struct TextSearchPrecisionTests {
    /// Unit vectors at the given angles (radians) in the plane.
    private func directions(_ angles: [Double]) throws -> Tensor {
        try Tensor(angles.flatMap { [cos($0), sin($0)] }, shape: [angles.count, 2])
    }

    @Test("each query's top k are its k most similar images; precision counts those showing its class")
    func handWorkedExample() throws {
        // Six images around the circle; class "a" is shown by images 0, 1 and 4, "b" by 2, 3 and 4.
        let images = try directions([0, 0.2, 1.6, 1.8, 0.4, 3.1])
        let labels: [Set<String>] = [["a"], ["a"], ["b"], ["b"], ["a", "b"], ["c"]]
        let queries = try directions([0.12, 1.72, 2.9])
        let list = [
            TextSearchPrecision.Query(text: "鞋", label: "a"), .init(text: "a bag", label: "b"),
            .init(text: "a coat", label: "c"),
        ]
        let result = try TextSearchPrecision.measure(images: images, queries: queries, queryList: list, labels: [
            ["a"], ["a"], ["b"], ["b"], ["a", "b"], ["c"],
        ], k: 3)
        // By angular distance: query 0 → 1 (0.08), 0 (0.12), 4 (0.28); query 1 → 3, 2, 4; query 2 → 5, 3, 2.
        #expect(result.results.map(\.top) == [[1, 0, 4], [3, 2, 4], [5, 3, 2]])
        #expect(result.results.map(\.precision) == [1, 1, 1.0 / 3])
        #expect(abs(result.results[0].chance - 0.5) < 1e-12 && abs(result.results[2].chance - 1.0 / 6) < 1e-12)
        #expect(abs(result.meanPrecision - 7.0 / 9) < 1e-12)

        // Direct computation of every query's top 3 by cosine.
        let a = try images.toArray(Double.self), q = try queries.toArray(Double.self)
        for row in 0..<3 {
            let scores = (0..<6).map { q[2 * row] * a[2 * $0] + q[2 * row + 1] * a[2 * $0 + 1] }
            let expected = (0..<6).sorted { scores[$0] > scores[$1] }.prefix(3)
            let hits = expected.filter { labels[$0].contains(list[row].label) }.count
            #expect(abs(result.results[row].precision - Double(hits) / 3) < 1e-12)
        }
        let report = result.report(model: "m", dataset: "d", settings: [:], skipped: [], displayNames: ["a": "鞋"])
        #expect(report.metrics["precision_at_k_chinese"] == 1)
        #expect(abs(report.metrics["precision_at_k"]! - result.meanPrecision) < 1e-12)
        #expect(report.tables[0].rows.count == 3 && report.tables[0].rows[0][1] == "鞋")
    }

    @Test("mismatched inputs and impossible k are errors")
    func badInput() throws {
        let images = try directions([0, 1])
        let queries = try directions([0])
        let list = [TextSearchPrecision.Query(text: "x", label: "a")]
        #expect(throws: EvaluationError.self) {
            try TextSearchPrecision.measure(images: images, queries: queries, queryList: list, labels: [["a"]], k: 1)
        }
        #expect(throws: EvaluationError.self) {
            try TextSearchPrecision.measure(images: images, queries: queries, queryList: list, labels: [["a"], []], k: 3)
        }
        #expect(throws: EvaluationError.self) {
            try TextSearchPrecision.measure(images: images, queries: queries, queryList: [], labels: [["a"], []], k: 1)
        }
    }
}
