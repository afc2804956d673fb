import BriVLData
import Foundation

/// The classes of a classification task and, for each, the finished prompts whose mean text embedding stands for it.
///
/// Class files have one class per line: its label as the dataset writes it (a folder name, a list file's class
/// column, a news category), then optionally tab-separated names to put into the prompt templates, e.g.
/// `stocks<TAB>股票<TAB>stock market`. Names written in Chinese go into Chinese templates and other names into
/// English ones; a line with only a label uses the label as its name. `#` starts a comment line.
public struct ClassPrompts: Sendable, Equatable {
    /// Class labels, in class-index order.
    public var labels: [String]
    /// The names shown in reports (the first prompt name of each class).
    public var displayNames: [String]
    public var prompts: [[String]]

    public var count: Int { labels.count }

    public init(labels: [String], displayNames: [String], prompts: [[String]]) {
        self.labels = labels
        self.displayNames = displayNames
        self.prompts = prompts
    }

    /// The index of a label; nil when the label is not a class.
    public func index(of label: String) -> Int? { labels.firstIndex(of: label) }

    /// Fills `templates` with every class's names.
    ///
    /// - Parameter names: per class, the names to put into the templates (at least one)
    public static func filling(labels: [String], names: [[String]], templates: PromptTemplates) throws -> ClassPrompts {
        guard !labels.isEmpty, labels.count == names.count, names.allSatisfy({ !$0.isEmpty }) else {
            throw EvaluationError.invalidArgument("every class needs a label and at least one name")
        }
        guard Set(labels).count == labels.count else {
            throw EvaluationError.invalidArgument("class labels repeat: \(labels.duplicates().joined(separator: ", "))")
        }
        return ClassPrompts(
            labels: labels, displayNames: names.map { $0[0] },
            prompts: names.map { classNames in classNames.flatMap { templates.prompts(for: $0) } })
    }

    /// Reads a class file (see the type's description).
    public static func read(classFile path: String, templates: PromptTemplates) throws -> ClassPrompts {
        var labels: [String] = []
        var names: [[String]] = []
        for (number, line) in try Self.lines(of: path) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard let label = fields.first, !label.isEmpty else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "the line has no class label")
            }
            guard !labels.contains(label) else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "class '\(label)' appears twice")
            }
            let given = fields.dropFirst().filter { !$0.isEmpty }
            labels.append(label)
            names.append(given.isEmpty ? [label] : Array(given))
        }
        guard !labels.isEmpty else { throw EvaluationError.invalidFile(file: path, line: nil, message: "no classes") }
        return try filling(labels: labels, names: names, templates: templates)
    }

    /// The classes of the caption corpus's `classes.json`: labels are the class indices as text, names are the
    /// Chinese names, and prompts are the file's own Chinese and English prompts unless `templates` are given.
    public static func read(fashionClasses path: String, templates: PromptTemplates?) throws -> ClassPrompts {
        let list = try ZeroShotClassList.read(from: path)
        let labels = list.classes.map { String($0.label) }
        if let templates {
            return try filling(
                labels: labels, names: list.classes.map { [$0.chinese, $0.englishWithArticle] }, templates: templates)
        }
        return ClassPrompts(
            labels: labels, displayNames: list.classes.map(\.chinese),
            prompts: list.classes.indices.map { index in
                let prompts = list.prompts(for: index)
                return prompts.chinese + prompts.english
            })
    }

    /// A subset of the classes, in the given order.
    public func selecting(_ indices: [Int]) -> ClassPrompts {
        ClassPrompts(
            labels: indices.map { labels[$0] }, displayNames: indices.map { displayNames[$0] },
            prompts: indices.map { prompts[$0] })
    }

    /// Non-empty, non-comment lines with their 1-based numbers.
    static func lines(of path: String) throws -> [(Int, String)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.io(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.invalidFile(file: path, line: nil, message: "not UTF-8 text")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty || trimmed.hasPrefix("#") ? nil : (index + 1, String(line).trimmingCharacters(in: .newlines))
        }
    }
}

/// Prompt templates, each with one `{}` where the class name goes, grouped by script: a name written in Chinese is
/// only put into Chinese templates and other names only into English ones (when the set has templates of that
/// script; otherwise into all of them).
public struct PromptTemplates: Sendable, Equatable {
    public var chinese: [String]
    public var english: [String]

    public init(chinese: [String], english: [String]) throws {
        let all = chinese + english
        guard !all.isEmpty else { throw EvaluationError.invalidArgument("no prompt templates") }
        for template in all where template.components(separatedBy: "{}").count != 2 {
            throw EvaluationError.invalidArgument("template '\(template)' must contain {} exactly once")
        }
        self.chinese = chinese
        self.english = english
    }

    /// Our default image-classification templates: plain descriptions of a photo in both languages.
    public static let images = try! PromptTemplates(
        chinese: [
            "一张{}的照片。", "{}的图片", "图中是{}", "这是一张关于{}的照片", "一张清楚的{}的照片", "一张模糊的{}的照片",
            "{}的特写", "一幅画着{}的画",
        ],
        english: [
            "a photo of {}.", "a picture of {}.", "{} in the picture.", "a close-up photo of {}.",
            "a clear photo of {}.", "a blurry photo of {}.", "a drawing of {}.", "an image showing {}.",
        ])

    /// Our default news templates for classifying headlines by their category.
    public static let news = try! PromptTemplates(
        chinese: ["这是一条{}新闻", "{}新闻", "一篇关于{}的报道", "{}频道的文章", "{}"],
        english: ["a news story about {}.", "{} news", "an article on {}.", "{}"])

    /// The templates filled with `name`: those of the name's script, or all of them when the set has none of it.
    public func prompts(for name: String) -> [String] {
        let own = name.containsChinese ? chinese : english
        return (own.isEmpty ? chinese + english : own).map { $0.replacingOccurrences(of: "{}", with: name) }
    }

    /// Reads a template file: one template per line, `#` comments; the script of each template decides its group.
    public static func read(from path: String) throws -> PromptTemplates {
        var chinese: [String] = []
        var english: [String] = []
        for (number, line) in try ClassPrompts.lines(of: path) {
            let template = line.trimmingCharacters(in: .whitespaces)
            guard template.components(separatedBy: "{}").count == 2 else {
                throw EvaluationError.invalidFile(
                    file: path, line: number, message: "a template needs {} exactly once where the class name goes")
            }
            if template.containsChinese { chinese.append(template) } else { english.append(template) }
        }
        guard !(chinese + english).isEmpty else {
            throw EvaluationError.invalidFile(file: path, line: nil, message: "no templates")
        }
        return try PromptTemplates(chinese: chinese, english: english)
    }
}

extension String {
    /// Whether the text holds a CJK ideograph.
    var containsChinese: Bool {
        unicodeScalars.contains { (0x3400...0x9FFF).contains($0.value) || (0x20000...0x2FA1F).contains($0.value) }
    }
}

extension Array where Element: Hashable {
    func duplicates() -> [Element] {
        var seen = Set<Element>()
        var repeated: [Element] = []
        for element in self where !seen.insert(element).inserted && !repeated.contains(element) {
            repeated.append(element)
        }
        return repeated
    }
}

extension ClassPrompts {
    /// The classes of an image set, from an explicit class file or from the set itself:
    /// - a `.json` class file is the caption corpus's `classes.json`, any other a class file;
    /// - without one, a shard folder uses the `classes.json` in it or beside it, a class-folder tree its sub-folder
    ///   names, and a list file the labels it uses.
    ///
    /// - Parameter templates: templates to fill (nil: a `classes.json`'s own prompts, else our image templates)
    public static func resolve(forImages path: String, classFile: String?, templates: PromptTemplates?) throws
        -> ClassPrompts
    {
        if let classFile {
            return classFile.hasSuffix(".json")
                ? try read(fashionClasses: classFile, templates: templates)
                : try read(classFile: classFile, templates: templates ?? .images)
        }
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.io(file: path, message: "no such file or folder")
        }
        if isDirectory.boolValue {
            for candidate in [path, (path as NSString).deletingLastPathComponent] {
                let json = (candidate as NSString).appendingPathComponent("classes.json")
                if fileManager.fileExists(atPath: json) { return try read(fashionClasses: json, templates: templates) }
            }
            let folders = try LabelledImageSet.subfolders(of: path)
            guard !folders.isEmpty else {
                throw EvaluationError.invalidArgument(
                    "\(path) has no classes.json and no class sub-folders: give a class file")
            }
            return try filling(labels: folders, names: folders.map { [$0] }, templates: templates ?? .images)
        }
        var labels: [String] = []
        for (number, line) in try lines(of: path) {
            let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2 else {
                throw EvaluationError.invalidFile(file: path, line: number, message: "expected `image path<TAB>class`")
            }
            if !labels.contains(fields[1]) { labels.append(fields[1]) }
        }
        return try filling(labels: labels, names: labels.map { [$0] }, templates: templates ?? .images)
    }

    /// Only the prompts of one script: "zh" keeps Chinese prompts, "en" the others, "both" all. A class left
    /// without prompts is an error.
    public func keeping(language: String) throws -> ClassPrompts {
        guard language != "both" else { return self }
        guard language == "zh" || language == "en" else {
            throw EvaluationError.invalidArgument("language must be zh, en or both, got '\(language)'")
        }
        var kept = self
        kept.prompts = prompts.map { $0.filter { $0.containsChinese == (language == "zh") } }
        if let empty = kept.prompts.firstIndex(where: \.isEmpty) {
            throw EvaluationError.invalidArgument("class '\(labels[empty])' has no \(language) prompt")
        }
        return kept
    }
}
