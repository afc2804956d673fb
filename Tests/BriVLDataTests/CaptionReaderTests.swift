import Foundation
import Testing

@testable import BriVLData

@Suite("One reading of captions for the loader, the cleaner, the miner and the evaluation sets")
struct CaptionReaderTests {
    private func sample(_ files: [String: Data]) -> Sample { Sample(key: "k", files: files) }

    @Test("json wins over txt; txt is one caption per line without blank lines")
    func sources() throws {
        let json = try PairRecord(texts: ["一只猫"], source: "s").encoded()
        let both = try CaptionReader.record(of: sample(["json": json, "txt": Data("一只狗\n".utf8)])).get()
        #expect(both.texts == ["一只猫"] && both.source == "s")
        let lines = try CaptionReader.record(of: sample(["txt": Data("一只狗\n\n一只猫\r\n".utf8)])).get()
        #expect(lines.texts == ["一只狗", "一只猫"])
    }

    @Test("a missing caption, bad UTF-8 and a JSON that is not a record are told apart")
    func problems() {
        #expect(CaptionReader.record(of: sample(["jpg": Data()])) == .failure(.missing))
        #expect(CaptionReader.record(of: sample(["txt": Data([0xE7, 0x8C])])) == .failure(.invalidUTF8))
        #expect(CaptionReader.record(of: sample(["json": Data([0x7B, 0xE7, 0x8C, 0x7D])])) == .failure(.invalidUTF8))
        guard case .failure(.invalidRecord(let reason)) = CaptionReader.record(of: sample(["json": Data(#"{"text": 1}"#.utf8)]))
        else {
            Issue.record("a JSON without texts should be an invalid record")
            return
        }
        #expect(reason.contains("texts"))
        #expect(throws: DataError.invalidSample(key: "k", reason: "the caption file is not valid UTF-8")) {
            try PairRecord.decode(from: sample(["txt": Data([0xFF])]))
        }
    }

    @Test("the captions used drop blank ones and keep a repeated caption once, in order")
    func captions() {
        let record = PairRecord(texts: ["一只猫", "  ", "a cat", "一只猫", "", "a cat", "一只狗"])
        #expect(record.captions == ["一只猫", "a cat", "一只狗"])
    }

    @Test("the cleaner keeps a caption that cleans to an earlier one's text once, and counts the other as removed")
    func cleanerDropsRepeats() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("captions-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pair = Sample(
            key: "a",
            files: ["jpg": CleanFixtures.jpeg(width: 300, height: 300), "json": CleanFixtures.record(["一只猫", "一只猫", "一只狗"])])
        try CleanFixtures.writeShard([pair], to: directory + "/s.tar")
        let report = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out")
        #expect(report.totals.kept == 1)
        #expect(report.totals.captionsRemoved == 1)
        let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned")
        #expect(try CleanFixtures.record(of: try #require(kept.first)).texts == ["一只猫", "一只狗"])
    }
}
