import Foundation

/// Texts with a class each, read from a `label<TAB>text` file (THUCNews headlines are written this way).
public struct LabelledTexts: Sendable, Equatable {
    public var texts: [String]
    /// Class indices into the class list the file was read against.
    public var labels: [Int]

    public var count: Int { texts.count }

    /// Reads the file; a line without a tab, with an empty text, or with a label outside `classes` is an error
    /// naming its line.
    public static func read(from path: String, classes: ClassPrompts, limit: Int = .max) throws -> LabelledTexts {
        var texts: [String] = []
        var labels: [Int] = []
        for (number, line) in try ClassPrompts.lines(of: path) where texts.count < limit {
            guard let tab = line.firstIndex(of: "\t") else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "expected `label<TAB>text`")
            }
            let label = line[..<tab].trimmingCharacters(in: .whitespaces)
            let text = line[line.index(after: tab)...].trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "the text is empty")
            }
            guard let index = classes.index(of: label) else {
                throw EvaluationError.invalidFile(
                    file: path, line: number,
                    message: "unknown class '\(label)' (known: \(classes.labels.joined(separator: ", ")))")
            }
            texts.append(text)
            labels.append(index)
        }
        guard !texts.isEmpty else { throw EvaluationError.invalidFile(file: path, line: nil, message: "no texts") }
        return LabelledTexts(texts: texts, labels: labels)
    }

    /// The distinct labels of a `label<TAB>text` file in order of first appearance, for building a class list when
    /// none is given.
    public static func labels(in path: String) throws -> [String] {
        var seen: [String] = []
        for (number, line) in try ClassPrompts.lines(of: path) {
            guard let tab = line.firstIndex(of: "\t") else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "expected `label<TAB>text`")
            }
            let label = line[..<tab].trimmingCharacters(in: .whitespaces)
            if !seen.contains(label) { seen.append(label) }
        }
        return seen
    }
}

/// Chinese names of the THUCNews categories (the labels of the headline file), written for zero-shot prompts.
public enum NewsCategories {
    public static let thucnews: [(label: String, names: [String])] = [
        ("finance", ["财经", "金融"]), ("realty", ["房产", "楼市"]), ("stocks", ["股票", "股市"]),
        ("education", ["教育", "考试"]), ("science", ["科技", "数码"]), ("society", ["社会", "民生"]),
        ("politics", ["时政", "政治"]), ("sports", ["体育", "比赛"]), ("game", ["游戏", "网游"]),
        ("entertainment", ["娱乐", "明星"]),
    ]

    /// The class list for a headline file's labels: THUCNews categories get their Chinese names; other labels
    /// stand for themselves.
    public static func classes(for labels: [String], templates: PromptTemplates) throws -> ClassPrompts {
        let known = Dictionary(uniqueKeysWithValues: thucnews.map { ($0.label, $0.names) })
        return try ClassPrompts.filling(
            labels: labels, names: labels.map { known[$0] ?? [$0] }, templates: templates)
    }
}
