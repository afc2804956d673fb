import BriVLData
import Foundation
import Imaging
import Testing

@testable import BriVLEvaluation

@Suite("VQADataset: reading questions.jsonl")
struct VQADatasetTests {
    static let valid = #"{"id": "q1", "image": "images/a.png", "question": "包在哪里？", "options": ["左侧", "右侧", "中间", "上方"], "answer": 2, "type": "where", "language": "zh"}"#

    /// A folder with one image and a question file of `lines`; returns the file's path.
    static func write(_ lines: [String]) throws -> String {
        let folder = try VQAFixtures.temporaryDirectory("dataset")
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        let image = try Image(width: 4, height: 4, color: Pixel(200, 30, 30))
        try ImageEncoder.png(image).write(to: URL(fileURLWithPath: folder + "/images/a.png"))
        let file = folder + "/questions.jsonl"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The line of the ``EvaluationError/invalidFile(file:line:message:)`` that reading `lines` throws.
    static func failingLine(_ lines: [String]) throws -> (line: Int?, message: String)? {
        let file = try write(lines)
        defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
        do {
            _ = try VQADataset(contentsOf: file)
        } catch EvaluationError.invalidFile(let errorFile, let line, let message) {
            #expect(errorFile == file)
            return (line, message)
        }
        Issue.record("no error for \(lines.last ?? "")")
        return nil
    }

    @Test("a valid file reads every question, resolving images against its folder")
    func readsValidFile() throws {
        let file = try Self.write([Self.valid, "", Self.valid.replacingOccurrences(of: "\"where\"", with: "\"how\"")])
        let dataset = try VQADataset(contentsOf: file)
        #expect(dataset.count == 2)
        let first = dataset.questions[0]
        #expect(first.imagePath == (file as NSString).deletingLastPathComponent + "/images/a.png")
        #expect(first.options[first.answer] == "中间")
        #expect(first.text(option: 1) == "包在哪里？ 右侧")
        #expect(dataset.questions[1].line == 3, "blank lines are skipped but counted")
        #expect(dataset.types == [.where, .how])
        #expect(dataset.chance == 0.25)
        #expect(try VQADataset(contentsOf: file, limit: 1).count == 1)
    }

    @Test(
        "each malformed line is reported with its line number",
        arguments: [
            (#"{"id": "q2", "image": "images/a.png", "question": "x", "options": ["a", "b"], "answer": 1, "type": "what""#, "JSON"),
            (#"{"image": "images/missing.png", "question": "x", "options": ["a", "b"], "answer": 0, "type": "what"}"#, "missing.png"),
            (#"{"image": "images/a.png", "question": "x", "options": [], "answer": 0, "type": "what"}"#, "options"),
            (#"{"image": "images/a.png", "question": "x", "options": ["a", "b"], "answer": 2, "type": "what"}"#, "out of range"),
            (#"{"image": "images/a.png", "question": "x", "options": ["a", "b"], "answer": -1, "type": "what"}"#, "out of range"),
            (#"{"image": "images/a.png", "question": "x", "options": ["a", "b"], "answer": 0, "type": "which"}"#, "which"),
            (#"{"image": "images/a.png", "question": "x", "options": ["a", "b"], "answer": "0", "type": "what"}"#, "answer"),
            (#"["not", "an", "object"]"#, "object"),
        ])
    func malformedLine(line: String, mentions: String) throws {
        let failure = try Self.failingLine([Self.valid, "", Self.valid, line, Self.valid])
        #expect(failure?.line == 4)
        #expect(failure?.message.contains(mentions) == true, "\(failure?.message ?? "")")
    }

    @Test("an empty file and a missing file are errors")
    func emptyAndMissing() throws {
        let failure = try Self.failingLine(["", "  "])
        #expect(failure?.line == nil)
        #expect(failure?.message.contains("no questions") == true)
        #expect(throws: EvaluationError.self) { try VQADataset(contentsOf: "/nonexistent/questions.jsonl") }
    }

    @Test("a generated set reads back with its types and both languages")
    func readsGeneratedSet() throws {
        let root = try VQAFixtures.temporaryDirectory("generated")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try VQAFixtures.generateSet(in: root, trainImages: 20, testImages: 4, questionsPerImage: 4)
        let train = try VQADataset(contentsOf: files.train)
        #expect(Set(train.types) == [.what, .where, .how])
        #expect(Set(train.questions.map(\.language)) == ["zh", "en"])
        #expect(train.questions.allSatisfy { $0.options.count == 4 })
        #expect(try VQADataset(contentsOf: files.test).count >= 12)
    }
}
