import Foundation
import Torch

/// Text search as a person uses it: a query names a class ("运动鞋", "a pair of sneakers"), ranks every image of a
/// collection, and the first k results are judged. An image is relevant when it shows the class anywhere — it may
/// hold other things too.
///
/// Precision@k of a query is the fraction of its top k images that are relevant; its chance level is the fraction
/// of the whole collection that is relevant (what a random ranking scores on average).
public struct TextSearchPrecision: Sendable {
    public struct Query: Sendable, Equatable {
        public var text: String
        /// The class the query names.
        public var label: String

        public init(text: String, label: String) {
            self.text = text
            self.label = label
        }
    }

    public struct QueryResult: Sendable, Equatable {
        public var query: Query
        /// Relevant images among the top k, divided by k.
        public var precision: Double
        /// The fraction of the collection that is relevant.
        public var chance: Double
        /// The image indices of the top k, best first.
        public var top: [Int]
    }

    public var k: Int
    public var results: [QueryResult]

    public var meanPrecision: Double { Self.mean(results.map(\.precision)) }
    public var meanChance: Double { Self.mean(results.map(\.chance)) }

    /// - Parameters:
    ///   - images: [images, dim], L2-normalised
    ///   - queries: [queries, dim], L2-normalised, one row per entry of `queryList`
    ///   - labels: per image, the classes it shows
    ///   - k: results judged per query (at most the number of images)
    public static func measure(
        images: Tensor, queries: Tensor, queryList: [Query], labels: [Set<String>], k: Int
    ) throws -> TextSearchPrecision {
        guard images.rank == 2, queries.rank == 2, images.size(1) == queries.size(1) else {
            throw EvaluationError.invalidArgument("image \(images.shape) and query \(queries.shape) embeddings do not fit")
        }
        guard images.size(0) == labels.count, queries.size(0) == queryList.count else {
            throw EvaluationError.invalidArgument(
                "\(images.size(0)) images with \(labels.count) label sets, \(queries.size(0)) queries with "
                    + "\(queryList.count) descriptions")
        }
        guard k >= 1, k <= labels.count else {
            throw EvaluationError.invalidArgument("k must lie in 1...\(labels.count) (the images), got \(k)")
        }
        let scores = try queries.to(dtype: .float32).matmul(images.to(dtype: .float32).transposed())
        let top = try scores.topK(k, dimension: 1).indices.contiguous().toArray(Int64.self)
        var relevantCounts: [String: Int] = [:]
        for shown in labels { for label in shown { relevantCounts[label, default: 0] += 1 } }
        var results: [QueryResult] = []
        for (row, query) in queryList.enumerated() {
            let ranked = top[(row * k)..<((row + 1) * k)].map { Int($0) }
            let hits = ranked.filter { labels[$0].contains(query.label) }.count
            let relevant = relevantCounts[query.label, default: 0]
            results.append(
                QueryResult(
                    query: query, precision: Double(hits) / Double(k), chance: Double(relevant) / Double(labels.count),
                    top: ranked))
        }
        return TextSearchPrecision(k: k, results: results)
    }

    /// The report: mean precision@k (also per script of the query), the mean chance level, and a row per query.
    public func report(
        model: String, dataset: String, settings: [String: String], skipped: [String], displayNames: [String: String]
    ) -> EvaluationReport {
        let chinese = results.filter { $0.query.text.containsChinese }
        let other = results.filter { !$0.query.text.containsChinese }
        var metrics = ["precision_at_k": meanPrecision, "chance": meanChance, "queries": Double(results.count)]
        if !chinese.isEmpty { metrics["precision_at_k_chinese"] = Self.mean(chinese.map(\.precision)) }
        if !other.isEmpty { metrics["precision_at_k_other"] = Self.mean(other.map(\.precision)) }
        var settings = settings
        settings["k"] = String(k)
        let table = ReportTable(
            title: "Text search precision@\(k) per query (mean \(String(format: "%.3f", meanPrecision)), "
                + "chance \(String(format: "%.3f", meanChance)))",
            columns: ["query", "class", "P@\(k)", "chance"],
            rows: results.map {
                [
                    $0.query.text, displayNames[$0.query.label] ?? $0.query.label, String(format: "%.2f", $0.precision),
                    String(format: "%.3f", $0.chance),
                ]
            })
        return EvaluationReport(
            task: "text-search", model: model, dataset: dataset, metrics: metrics, settings: settings, tables: [table],
            skipped: skipped)
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
}
