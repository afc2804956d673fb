import Foundation

/// `classes.json` beside zero-shot shards: the class names and the prompt templates for zero-shot classification.
public struct ZeroShotClassList: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var label: Int
        public var datasetName: String
        public var chinese: String
        public var english: String
        /// "a dress", "a pair of ankle boots": what English prompts put in their `{}`.
        public var englishWithArticle: String
        public var measureWord: String

        public init(
            label: Int, datasetName: String, chinese: String, english: String, englishWithArticle: String,
            measureWord: String
        ) {
            self.label = label
            self.datasetName = datasetName
            self.chinese = chinese
            self.english = english
            self.englishWithArticle = englishWithArticle
            self.measureWord = measureWord
        }
    }

    public var classes: [Entry]
    /// `{}` takes an entry's `chinese`.
    public var chinesePrompts: [String]
    /// `{}` takes an entry's `englishWithArticle`, so that prompts read "a photo of a pair of sandals".
    public var englishPrompts: [String]

    public init(classes: [Entry], chinesePrompts: [String], englishPrompts: [String]) {
        self.classes = classes
        self.chinesePrompts = chinesePrompts
        self.englishPrompts = englishPrompts
    }

    /// The prompts of one class: Chinese first, then English.
    public func prompts(for label: Int) -> (chinese: [String], english: [String]) {
        let entry = classes[label]
        return (
            chinesePrompts.map { $0.replacingOccurrences(of: "{}", with: entry.chinese) },
            englishPrompts.map { $0.replacingOccurrences(of: "{}", with: entry.englishWithArticle) }
        )
    }

    public static func read(from path: String) throws -> ZeroShotClassList {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the class list")
        }
        do {
            return try JSONDecoder().decode(ZeroShotClassList.self, from: data)
        } catch {
            throw DataError.invalidFile(file: path, reason: "not a class list: \(error)")
        }
    }
}
