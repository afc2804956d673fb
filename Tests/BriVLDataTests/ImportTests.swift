import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

private let jpegBytes = Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])
private let pngBytes = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])

private func readAll(_ directory: String) throws -> [Sample] {
    try ShardIndex.discover(in: directory).paths.flatMap { Array(try ShardReader(path: $0)) }
}

@Suite("Importers")
struct ImportTests {
    @Test("CSV records with quotes, commas and embedded newlines")
    func csvParsing() {
        #expect(CaptionTable.parseCSVRecord(#"a.jpg,"一只猫, 在床上","x""y""#) == ["a.jpg", "一只猫, 在床上", #"x"y"#])
        #expect(CaptionTable.parseCSVRecord("a,,b") == ["a", "", "b"])
    }

    @Test("a folder import writes every captioned image and rejects the rest with reasons")
    func folderImport() throws {
        try withTemporaryDirectory { directory in
            let images = directory + "/images"
            try FileManager.default.createDirectory(atPath: images + "/sub", withIntermediateDirectories: true)
            try jpegBytes.write(to: URL(fileURLWithPath: images + "/cat.jpg"))
            try pngBytes.write(to: URL(fileURLWithPath: images + "/sub/dog.jpg"))  // a PNG with the wrong extension
            try Data().write(to: URL(fileURLWithPath: images + "/empty.jpg"))
            try Data("not an image".utf8).write(to: URL(fileURLWithPath: images + "/text.jpg"))
            let captions = """
                {"image": "cat.jpg", "text": "一只猫"}
                {"image": "cat.jpg", "texts": ["a cat", ""]}
                {"image": "sub/dog.jpg", "text": "一只狗"}
                {"image": "empty.jpg", "text": "空"}
                {"image": "text.jpg", "text": "文字"}
                {"image": "missing.jpg", "text": "不存在"}
                {"image": "../outside.jpg", "text": "越界"}
                {"image": "nocaption.jpg", "text": ""}
                this line is not JSON
                """
            try Data(captions.utf8).write(to: URL(fileURLWithPath: directory + "/captions.jsonl"))
            let output = directory + "/shards"
            let importer = FolderImporter(
                try .init(
                    imageDirectory: images, captionFile: directory + "/captions.jsonl",
                    output: .init(directory: output, prefix: "pairs", samplesPerShard: 1), rejectsFile: directory + "/rejects.jsonl"))
            let report = try importer.run()
            #expect(report.inputs == 7)
            #expect(report.written == 2)
            #expect(report.rejected == ["image_empty": 1, "not_an_image": 1, "image_missing": 2, "no_caption": 1])
            #expect(report.inputs == report.written + report.rejectedCount)
            #expect(report.invalidCaptionLines == 1)
            #expect(report.shards.count == 2)

            let samples = try readAll(output)
            #expect(samples.count == 2)
            #expect(try PairRecord.decode(from: samples[0]).texts == ["一只猫", "a cat"])
            #expect(samples[0].files["jpg"] == jpegBytes)
            #expect(samples[1].files["png"] == pngBytes)
            #expect(try PairRecord.decode(from: samples[1]).source == "sub/dog.jpg")

            let rejectLines = try String(contentsOfFile: directory + "/rejects.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(rejectLines.count == report.rejectedCount + report.invalidCaptionLines)
        }
    }

    @Test("TSV and CSV caption files import the same pairs")
    func tsvAndCSV() throws {
        try withTemporaryDirectory { directory in
            try jpegBytes.write(to: URL(fileURLWithPath: directory + "/a.jpg"))
            try Data("a.jpg\t海边的日落\n".utf8).write(to: URL(fileURLWithPath: directory + "/c.tsv"))
            try Data("id,image,text\n1,a.jpg,\"海边的日落\"\n".utf8).write(to: URL(fileURLWithPath: directory + "/c.csv"))
            for name in ["c.tsv", "c.csv"] {
                let output = directory + "/out-" + name
                let report = try FolderImporter(
                    try .init(imageDirectory: directory, captionFile: directory + "/" + name, output: .init(directory: output))
                ).run()
                #expect(report.written == 1)
                #expect(try PairRecord.decode(from: try readAll(output)[0]).texts == ["海边的日落"])
            }
        }
    }

    @Test("the Chinese-CLIP layout: base64 TSV plus texts naming image ids")
    func chineseCLIP() throws {
        try withTemporaryDirectory { directory in
            let tsv = [
                "1001\t\(jpegBytes.base64EncodedString())",
                "1002\t\(pngBytes.base64EncodedString())",
                "1003\t!!!not base64!!!",
                "1004\t\(jpegBytes.base64EncodedString())",
                "1001\t\(jpegBytes.base64EncodedString())",
            ].joined(separator: "\n")
            try Data(tsv.utf8).write(to: URL(fileURLWithPath: directory + "/imgs.tsv"))
            let texts = """
                {"text_id": 1, "text": "一只猫", "image_ids": [1001]}
                {"text_id": 2, "text": "两只狗", "image_ids": [1002, 1003]}
                {"text_id": 3, "text": "猫在睡觉", "image_ids": [1001]}
                """
            try Data(texts.utf8).write(to: URL(fileURLWithPath: directory + "/texts.jsonl"))
            let output = directory + "/shards"
            let report = try ChineseCLIPImporter(
                .init(imagesTSV: directory + "/imgs.tsv", textsJSONL: directory + "/texts.jsonl", output: .init(directory: output))
            ).run()
            #expect(report.inputs == 5)
            #expect(report.written == 2)
            #expect(report.rejected == ["invalid_base64": 1, "no_caption": 1, "duplicate_image": 1])
            let samples = try readAll(output)
            #expect(samples.map(\.key) == ["1001", "1002"])
            #expect(try PairRecord.decode(from: samples[0]).texts == ["一只猫", "猫在睡觉"])
            #expect(samples[1].files["png"] == pngBytes)
        }
    }
}
