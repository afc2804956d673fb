import Foundation

/// Visual7W's question types, by the question word. Accuracy is reported per type, as WenLan 2.0 reports VQA.
public enum VQAQuestionType: String, Codable, CaseIterable, Sendable, Comparable {
    case what, `where`, when, who, why, how

    public static func < (lhs: VQAQuestionType, rhs: VQAQuestionType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One line of a `questions.jsonl` file: a multiple-choice question about an image.
///
///     {"id": "train-000001-0", "image": "images/000001.png", "question": "包在哪里？",
///      "options": ["右上角", "左下角", "中间", "左侧"], "answer": 2, "type": "where", "language": "zh"}
///
/// `image` is relative to the folder holding the jsonl file. `kind` is optional: a finer grouping than `type` (the
/// generated set uses "object", "colour", "position", "count").
public struct VQARecord: Codable, Sendable, Equatable {
    public var id: String
    public var image: String
    public var question: String
    public var options: [String]
    /// Index of the correct option.
    public var answer: Int
    public var type: VQAQuestionType
    /// "zh" or "en".
    public var language: String
    public var kind: String?

    public init(
        id: String, image: String, question: String, options: [String], answer: Int, type: VQAQuestionType,
        language: String, kind: String? = nil
    ) {
        self.id = id
        self.image = image
        self.question = question
        self.options = options
        self.answer = answer
        self.type = type
        self.language = language
        self.kind = kind
    }

    /// The record as one line of JSON (keys sorted, Chinese kept as UTF-8), without the newline.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
