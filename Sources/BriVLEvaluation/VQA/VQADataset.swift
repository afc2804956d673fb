import BriVLData
import Foundation

/// A multiple-choice question read from a `questions.jsonl` file.
public struct VQAQuestion: Sendable, Equatable {
    public var id: String
    /// The image's absolute path (the file names it relative to its own folder).
    public var imagePath: String
    public var question: String
    public var options: [String]
    public var answer: Int
    public var type: VQAQuestionType
    /// "zh", "en", or "" when the file does not say.
    public var language: String
    /// The line of the file it was read from, counting from 1, so that later errors can point at it.
    public var line: Int

    /// What the text tower reads for option `index`: the question and the option, so that the option is judged
    /// as an answer to this question.
    public func text(option index: Int) -> String { question + " " + options[index] }
}

/// The questions of one `questions.jsonl` file (see ``VQARecord`` for the line format), checked as they are read:
/// every malformed line is an ``EvaluationError/invalidFile(file:line:message:)`` naming the file and the line.
public struct VQADataset: Sendable {
    /// The jsonl file.
    public let file: String
    public let questions: [VQAQuestion]

    /// - Parameter limit: read at most this many questions (from the top of the file)
    public init(contentsOf file: String, limit: Int? = nil) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw EvaluationError.io(file: file, message: "cannot read the question file")
        }
        if let limit, limit < 1 { throw EvaluationError.invalidArgument("the question limit must be at least 1") }
        let folder = (file as NSString).deletingLastPathComponent
        var questions: [VQAQuestion] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if let limit, questions.count >= limit { break }
            guard line.contains(where: { !Self.isWhitespace($0) }) else { continue }
            questions.append(try Self.parse(Data(line), file: file, line: lineNumber, folder: folder))
        }
        guard !questions.isEmpty else {
            throw EvaluationError.invalidFile(file: file, line: nil, message: "holds no questions")
        }
        self.file = file
        self.questions = questions
    }

    /// Questions given directly (tests, other formats); `file` names them in errors.
    public init(questions: [VQAQuestion], file: String) {
        self.file = file
        self.questions = questions
    }

    public var count: Int { questions.count }

    /// The accuracy of guessing: the mean over questions of 1 / options.
    public var chance: Double {
        questions.reduce(0) { $0 + 1 / Double($1.options.count) } / Double(max(questions.count, 1))
    }

    /// The question types present, in Visual7W's order.
    public var types: [VQAQuestionType] { Set(questions.map(\.type)).sorted() }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    /// Every field optional, so that a missing or mistyped one is reported by name rather than as a decoding trace.
    private struct LooseRecord: Decodable {
        var id: String?
        var image: String?
        var question: String?
        var options: [String]?
        var answer: Int?
        var type: String?
        var language: String?
    }

    private static func parse(_ line: Data, file: String, line number: Int, folder: String) throws -> VQAQuestion {
        func invalid(_ message: String) -> EvaluationError { .invalidFile(file: file, line: number, message: message) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: line)
        } catch {
            throw invalid("not valid JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error)")
        }
        guard object is [String: Any] else { throw invalid("a question must be a JSON object") }
        let record: LooseRecord
        do {
            record = try JSONDecoder().decode(LooseRecord.self, from: line)
        } catch DecodingError.typeMismatch(let type, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw invalid("\"\(field)\" must be \(type == Int.self ? "an integer" : "text or a list of text")")
        } catch {
            throw invalid("malformed question: \(error)")
        }
        guard let question = record.question, !question.isEmpty else { throw invalid("no \"question\"") }
        guard let image = record.image, !image.isEmpty else { throw invalid("no \"image\"") }
        guard let options = record.options, !options.isEmpty else { throw invalid("\"options\" is missing or empty") }
        guard let answer = record.answer else { throw invalid("no \"answer\"") }
        guard options.indices.contains(answer) else {
            throw invalid("answer index \(answer) is out of range: there are \(options.count) option(s), indexed from 0")
        }
        guard let typeName = record.type else { throw invalid("no \"type\"") }
        guard let type = VQAQuestionType(rawValue: typeName) else {
            throw invalid(
                "unknown question type \"\(typeName)\" (known: \(VQAQuestionType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let imagePath = image.hasPrefix("/") ? image : (folder as NSString).appendingPathComponent(image)
        guard FileManager.default.fileExists(atPath: imagePath) else {
            throw invalid("image file \(image) does not exist (looked for \(imagePath))")
        }
        return VQAQuestion(
            id: record.id ?? "line-\(number)", imagePath: imagePath, question: question, options: options,
            answer: answer, type: type, language: record.language ?? "", line: number)
    }
}
