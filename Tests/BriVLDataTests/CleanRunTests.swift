import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

/// Scores by the image's first compressed byte (the fixture's `payload`), so two images can share a score or not.
struct PayloadScorer: RelevanceScorer {
    var scores: [UInt8: Float]
    var identifier: String { "payload-test" }

    func score(image: Data, text: String) throws -> Float {
        let bytes = [UInt8](image)
        guard let sos = (0..<(bytes.count - 1)).first(where: { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA }) else {
            return 0
        }
        let length = Int(bytes[sos + 2]) << 8 | Int(bytes[sos + 3])
        return scores[bytes[sos + 2 + length]] ?? 0.9
    }
}

@Suite("Cleaning: runs")
struct CleanRunTests {
    func reasons(_ sample: Sample) throws -> [String] {
        (try CleanFixtures.record(of: sample).metadata?["reject_reasons"] ?? "").split(separator: ",").map(String.init)
    }

    @Test("a corrupt corpus: no crash, every pair counted once with a reason, totals add up, no half pairs")
    func corruptCorpus() throws {
        try withTemporaryDirectory { directory in
            let jpeg = CleanFixtures.jpeg(width: 300, height: 300)
            var invalidJSON = Data(#"{"texts":[""#.utf8)
            invalidJSON += Data([0xE7, 0x8C]) + Data(#""]}"#.utf8)
            let samples: [Sample] = [
                CleanFixtures.pair("good1", "一只猫在草地上", payload: 1),
                Sample(key: "zero", files: ["jpg": Data(), "json": CleanFixtures.record(["一只狗"])]),
                Sample(key: "truncated", files: ["jpg": jpeg.prefix(150), "json": CleanFixtures.record(["一只狗"])]),
                Sample(key: "pngasjpg", files: ["jpg": CleanFixtures.png(width: 300, height: 400), "json": CleanFixtures.record(["鲜花"])]),
                Sample(key: "textasjpg", files: ["jpg": Data("not an image".utf8), "json": CleanFixtures.record(["鲜花"])]),
                Sample(key: "gif", files: ["gif": Data("GIF89a....".utf8), "json": CleanFixtures.record(["一只鸟"])]),
                Sample(key: "badtxt", files: ["jpg": jpeg, "txt": Data([0xE4, 0xB8, 0x80, 0xE4, 0xB8])]),
                Sample(key: "badjsonutf8", files: ["jpg": jpeg, "json": invalidJSON]),
                Sample(key: "notjson", files: ["jpg": jpeg, "json": Data("{not json".utf8)]),
                Sample(key: "emptytext", files: ["jpg": jpeg, "json": CleanFixtures.record([""])]),
                Sample(key: "notexts", files: ["jpg": jpeg, "json": CleanFixtures.record([])]),
                Sample(key: "imageonly", files: ["jpg": jpeg]),
                Sample(key: "textonly", files: ["json": CleanFixtures.record(["只有文字"])]),
                CleanFixtures.pair("wide", "宽图", width: 900, height: 300),
                CleanFixtures.pair("small", "小图", width: 200, height: 200),
                CleanFixtures.pair("english", "a cat on the grass"),
                CleanFixtures.pair("wideenglish", "a wide photo", width: 300, height: 700),
                CleanFixtures.pair("boilerplate", "查看原网页"),
                Sample(key: "multi", files: ["jpg": jpeg, "json": CleanFixtures.record(["hello", "一只小鸟 展开全文"])]),
                Sample(key: "withtxt", files: ["jpg": CleanFixtures.jpeg(width: 300, height: 300, payload: 3), "txt": Data("第一行\n第二行".utf8), "cls": Data("7".utf8)]),
            ]
            try CleanFixtures.writeShard(samples, to: directory + "/a.tar")
            // A member without an extension, and a key repeated later in the shard.
            let tail = try TarWriter(path: directory + "/tail.tar")
            try tail.append(TarEntry(name: "README", data: Data("notes".utf8)))
            try tail.finish()
            var archive = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.tar"))
            archive.removeLast(1024)
            archive += try Data(contentsOf: URL(fileURLWithPath: directory + "/tail.tar")).dropLast(1024)
            let repeated = directory + "/repeat.tar"
            try CleanFixtures.writeShard([CleanFixtures.pair("good1", "一只猫在草地上", payload: 1)], to: repeated)
            archive += try Data(contentsOf: URL(fileURLWithPath: repeated))
            try archive.write(to: URL(fileURLWithPath: directory + "/a.tar"))

            // A second shard cut inside its last sample's caption.
            try CleanFixtures.writeShard(
                [CleanFixtures.pair("b1", "第一张", payload: 11), CleanFixtures.pair("b2", "第二张", payload: 12),
                 CleanFixtures.pair("b3", "第三张", payload: 13)], to: directory + "/b.tar")
            var cut = try Data(contentsOf: URL(fileURLWithPath: directory + "/b.tar"))
            cut.removeLast(1024 + 512 + 100)
            try cut.write(to: URL(fileURLWithPath: directory + "/b.tar"))

            let output = directory + "/out"
            let report = try CleanFixtures.run([directory + "/a.tar", directory + "/b.tar"], output: output)
            let totals = report.totals
            #expect(totals.input == samples.count + 1 + 3)
            #expect(totals.input == totals.kept + totals.rejected)
            #expect(totals.droppedBy.values.reduce(0, +) == totals.rejected)
            #expect(totals.skippedMembers == 1)
            #expect(totals.imageExtensionMismatches >= 1)
            #expect(report.shards[1].errors.count == 1)

            let kept = try CleanFixtures.readOutputs(output, "cleaned")
            let rejected = try CleanFixtures.readOutputs(output, "rejects")
            #expect(kept.count == totals.kept && rejected.count == totals.rejected)
            #expect(Set(kept.map(\.key)).isDisjoint(with: Set(rejected.map(\.key))))
            #expect(Set(kept.map(\.key)) == ["good1", "pngasjpg", "multi", "withtxt", "b1", "b2"])
            for sample in kept {
                #expect(sample.image != nil && sample.files["json"] != nil, "\(sample.key) is whole")
                let record = try CleanFixtures.record(of: sample)
                #expect(record.originalTexts?.isEmpty == false && record.metadata?["original_texts"] == nil)
            }
            let png = kept.first { $0.key == "pngasjpg" }!
            #expect(png.files["png"] != nil && png.files["jpg"] == nil)
            let multi = try CleanFixtures.record(of: kept.first { $0.key == "multi" }!)
            #expect(multi.texts == ["一只小鸟"])
            #expect(multi.metadata?["clean_rules"] == "boilerplate,captions_removed")
            let withTxt = kept.first { $0.key == "withtxt" }!
            #expect(try CleanFixtures.record(of: withTxt).texts == ["第一行", "第二行"])
            #expect(withTxt.files["cls"] == Data("7".utf8) && withTxt.files["txt"] == nil)

            let expected: [String: String] = [
                "zero": "undecodable_image", "truncated": "undecodable_image", "textasjpg": "undecodable_image",
                "gif": "missing_image", "badtxt": "invalid_utf8", "badjsonutf8": "invalid_utf8",
                "notjson": "invalid_caption", "emptytext": "empty_caption", "notexts": "empty_caption",
                "imageonly": "missing_caption", "textonly": "missing_image", "wide": "aspect_ratio",
                "small": "image_too_small", "english": "language", "wideenglish": "aspect_ratio",
                "boilerplate": "empty_after_cleaning", "good1_2": "duplicate", "b3": "truncated_archive",
            ]
            #expect(Set(rejected.map(\.key)) == Set(expected.keys))
            for sample in rejected {
                let found = try reasons(sample)
                #expect(found.first == expected[sample.key], "\(sample.key): \(found)")
                #expect(sample.files.count >= 1)
            }
            let wideEnglish = rejected.first { $0.key == "wideenglish" }!
            #expect(try reasons(wideEnglish) == ["aspect_ratio", "language"])
            #expect(totals.failedRules[.language] == 2)
            let notJSON = rejected.first { $0.key == "notjson" }!
            #expect(notJSON.files["original.json"] == Data("{not json".utf8) && notJSON.files["jpg"] == jpeg)
            let duplicate = try CleanFixtures.record(of: rejected.first { $0.key == "good1_2" }!)
            #expect(duplicate.metadata?["duplicate_of"] == "a/good1")
            #expect(duplicate.metadata?["original_key"] == "good1")

            // The written report is the returned one, with every reason key.
            let written = try JSONDecoder().decode(
                CleaningReport.self, from: Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
            #expect(written == report)
            #expect(Set(written.totals.droppedBy.keys) == Set(CleaningRejectReason.allCases))
            let markdown = try String(contentsOfFile: output + "/report.md", encoding: .utf8)
            #expect(markdown.contains("| undecodable_image | 3 |"))
            let index = try ShardIndex.discover(in: output + "/cleaned")
            #expect(index.index.sampleCount == totals.kept)
        }
    }

    @Test("a caption line repeated word for word in one pair (.txt or .json) is kept once, and the drop is counted")
    func repeatedCaptionLines() throws {
        try withTemporaryDirectory { directory in
            let jpeg = CleanFixtures.jpeg(width: 300, height: 300)
            try CleanFixtures.writeShard(
                [Sample(key: "t", files: ["jpg": jpeg, "txt": Data("一只小鸟在树上\n一只小鸟在树上\n".utf8)]),
                 Sample(key: "j", files: ["jpg": CleanFixtures.jpeg(width: 300, height: 300, payload: 9),
                                          "json": CleanFixtures.record(["两只猫", "两只猫", "一只狗"])])],
                to: directory + "/s.tar")
            let report = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out")
            let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned")
            #expect(try CleanFixtures.record(of: kept.first { $0.key == "t" }!).texts == ["一只小鸟在树上"])
            #expect(try CleanFixtures.record(of: kept.first { $0.key == "j" }!).texts == ["两只猫", "一只狗"])
            #expect(report.totals.captionsRemoved == 2)
            #expect(try CleanFixtures.record(of: kept.first { $0.key == "t" }!).metadata?["clean_rules"] == "captions_removed")
        }
    }

    @Test("hard negatives stay with the captions kept word for word; those of changed or dropped captions go")
    func hardNegativesFollowTheirCaptions() throws {
        try withTemporaryDirectory { directory in
            let kept = "两只猫在沙发上睡觉", dropped = "a dog on the grass"
            let record = PairRecord(
                texts: [kept, kept, dropped],
                hardNegatives: [kept: ["两只狗在沙发上睡觉"], dropped: ["a cat on the grass"], "stale": ["x"]])
            try CleanFixtures.writeShard(
                [Sample(key: "f", files: ["jpg": CleanFixtures.jpeg(width: 300, height: 300), "json": try record.encoded()])],
                to: directory + "/s.tar")
            _ = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out")
            let cleaned = try CleanFixtures.record(of: try #require(CleanFixtures.readOutputs(directory + "/out", "cleaned").first))
            #expect(cleaned.texts == [kept])
            #expect(cleaned.hardNegatives == [kept: ["两只狗在沙发上睡觉"]])
        }
    }

    @Test("kept images are re-encoded as JPEG and counted; a wrong extension is fixed")
    func reencoding() throws {
        try withTemporaryDirectory { directory in
            try CleanFixtures.writeShard(
                [CleanFixtures.pair("a", "一只猫"),
                 Sample(key: "b", files: ["jpg": CleanFixtures.png(width: 300, height: 300), "json": CleanFixtures.record(["鲜花"])])],
                to: directory + "/s.tar")
            let report = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out", codec: MarkingReencoder())
            #expect(report.totals.imagesReencoded == 2 && report.totals.imagesKeptAsIs == 0)
            let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned")
            #expect(kept.allSatisfy { $0.files["jpg"] != nil && $0.files["png"] == nil })
            #expect(kept.allSatisfy { $0.files["jpg"]!.suffix(4) != CleanFixtures.jpeg(width: 300, height: 300).suffix(4) })
        }
    }

    @Test("dedup: same text + same image is a duplicate, same text + another image is not, across shards")
    func dedupWithoutScorer() throws {
        try withTemporaryDirectory { directory in
            try CleanFixtures.writeShard(
                [CleanFixtures.pair("a1", "一只猫", payload: 1), CleanFixtures.pair("a2", "一只猫。", payload: 1),
                 CleanFixtures.pair("a3", "一只猫", payload: 2)], to: directory + "/one.tar")
            try CleanFixtures.writeShard(
                [CleanFixtures.pair("b1", "一只 猫", payload: 1), CleanFixtures.pair("b2", "一只狗", payload: 1)],
                to: directory + "/two.tar")
            let report = try CleanFixtures.run([directory + "/one.tar", directory + "/two.tar"], output: directory + "/out")
            #expect(report.totals.droppedBy[.duplicate] == 2)
            let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned").map(\.key)
            #expect(kept == ["a1", "a3", "b2"])
            let rejected = try CleanFixtures.readOutputs(directory + "/out", "rejects")
            let owners = try rejected.map { try CleanFixtures.record(of: $0).metadata?["duplicate_of"] ?? "" }
            #expect(owners == ["one/a1", "one/a1"])

            let off = try CleanFixtures.run(
                [directory + "/one.tar", directory + "/two.tar"], output: directory + "/off",
                configuration: CleaningConfiguration(dedup: .init(enabled: false)))
            #expect(off.totals.kept == 5)
        }
    }

    @Test("dedup with a relevance scorer keys on the rounded score; low relevance is dropped")
    func dedupAndRelevanceWithScorer() throws {
        try withTemporaryDirectory { directory in
            try CleanFixtures.writeShard(
                [CleanFixtures.pair("a", "一只猫", payload: 1), CleanFixtures.pair("b", "一只猫", payload: 2),
                 CleanFixtures.pair("c", "一只猫", payload: 3), CleanFixtures.pair("d", "一只猫", payload: 4),
                 CleanFixtures.pair("e", "无关的文字", payload: 5)],
                to: directory + "/s.tar")
            // b's score rounds like a's (a duplicate); c's differs; d is below the threshold.
            let scorer = PayloadScorer(scores: [1: 0.61234, 2: 0.61198, 3: 0.7, 4: 0.2, 5: 0.25])
            let report = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out", scorer: scorer)
            #expect(report.totals.droppedBy[.duplicate] == 1)
            #expect(report.totals.droppedBy[.lowRelevance] == 2)
            #expect(report.relevanceScorer == "payload-test")
            let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned")
            #expect(kept.map(\.key) == ["a", "c"])
            #expect(try CleanFixtures.record(of: kept[0]).metadata?["relevance_cosine"] == "0.6123")

            var strict = CleanFixtures.configuration()
            strict.relevance.minimumCosine = 0.65
            let higher = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/strict", configuration: strict, scorer: scorer)
            #expect(higher.totals.kept == 1)
        }
    }

    /// Six shards with duplicates inside and across them.
    func makeCorpus(_ directory: String) throws -> [String] {
        var random = LoaderRandom(seed: 3)
        let texts = ["一只猫", "一只狗", "红色的花", "蓝色的海", "高山流水", "a cat", "查看原网页", "小鸟 展开全文", "城市夜景"]
        var paths: [String] = []
        for shard in 0..<6 {
            var samples: [Sample] = []
            for index in 0..<30 {
                let key = String(format: "s%d-%03d", shard, index)
                var sample = CleanFixtures.pair(key, random.element(texts), payload: UInt8(random.below(4)))
                if random.below(20) == 0 { sample.files["jpg"] = Data() }
                samples.append(sample)
            }
            let path = directory + String(format: "/shard-%02d.tar", shard)
            try CleanFixtures.writeShard(samples, to: path)
            paths.append(path)
        }
        return paths
    }

    func contents(_ output: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for folder in ["cleaned", "rejects"] {
            result[folder] = try CleanFixtures.readOutputs(output, folder).map { sample in
                let record = try CleanFixtures.record(of: sample)
                return sample.key + "|" + record.texts.joined(separator: "/") + "|" + (record.metadata?["reject_reasons"] ?? "")
            }.sorted()
        }
        return result
    }

    @Test("two or three workers give the same outputs and report as one")
    func parallelEqualsSerial() throws {
        try withTemporaryDirectory { directory in
            let inputs = try makeCorpus(directory)
            let serial = try CleanFixtures.run(inputs, output: directory + "/serial", workers: 1)
            #expect(serial.totals.droppedBy[.duplicate]! > 10)
            for workers in [2, 3] {
                let output = directory + "/parallel\(workers)"
                let parallel = try CleanFixtures.run(inputs, output: output, workers: workers)
                #expect(parallel == serial)
                #expect(try contents(output) == contents(directory + "/serial"))
                for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/serial/cleaned") {
                    #expect(
                        FileManager.default.contents(atPath: "\(directory)/serial/cleaned/\(name)")
                            == FileManager.default.contents(atPath: "\(output)/cleaned/\(name)"), "\(name)")
                }
            }
        }
    }

    @Test("a run interrupted mid-shard resumes to the same outputs and report, skipping finished shards")
    func resume() throws {
        try withTemporaryDirectory { directory in
            let inputs = try makeCorpus(directory)
            let reference = try CleanFixtures.run(inputs, output: directory + "/reference", workers: 2)
            for (workers, limit) in [(1, 75), (2, 100)] {
                let output = directory + "/resumed\(workers)"
                #expect(throws: DataError.cancelled) {
                    try CleanFixtures.run(inputs, output: output, workers: workers, interruptAfter: limit)
                }
                #expect(!FileManager.default.fileExists(atPath: output + "/report.json"))
                let events = EventLog()
                let report = try CleanFixtures.run(inputs, output: output, workers: workers) { events.add($0) }
                #expect(report == reference)
                #expect(events.resumed >= 2 && events.resumed < 6, "\(events.resumed) shards resumed")
                #expect(try contents(output) == contents(directory + "/reference"))
                #expect(
                    FileManager.default.contents(atPath: output + "/report.json")
                        == FileManager.default.contents(atPath: directory + "/reference/report.json"))
                #expect(!FileManager.default.fileExists(atPath: output + "/tmp"))
            }
            // Running again finds everything finished.
            let events = EventLog()
            _ = try CleanFixtures.run(inputs, output: directory + "/reference", workers: 2) { events.add($0) }
            #expect(events.resumed == 6)
            // A damaged output is noticed and only its shard redone.
            // (A shard whose pairs are all duplicates writes no cleaned tar, so damage one that exists.)
            let cleanedShards = try FileManager.default.contentsOfDirectory(atPath: directory + "/reference/cleaned")
                .filter { $0.hasSuffix(".tar") }.sorted()
            let damaged = try #require(cleanedShards.last)
            try FileManager.default.removeItem(atPath: directory + "/reference/cleaned/" + damaged)
            let again = EventLog()
            let redone = try CleanFixtures.run(inputs, output: directory + "/reference", workers: 2) { again.add($0) }
            #expect(again.resumed == 5 && redone == reference)
        }
    }

    @Test("other settings in the same output folder are refused unless restarting")
    func settingsMismatch() throws {
        try withTemporaryDirectory { directory in
            try CleanFixtures.writeShard([CleanFixtures.pair("a", "一只猫")], to: directory + "/s.tar")
            _ = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out")
            let english = CleanFixtures.configuration(language: .en)
            #expect(throws: DataError.self) {
                try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out", configuration: english)
            }
            var options = CleaningRunOptions(inputs: [directory + "/s.tar"], outputDirectory: directory + "/out", restart: true)
            options.workers = 1
            let report = try CleaningRun(
                configuration: english, lexicons: TextLexicons(), codec: StructuralImageCodec(), options: options
            ).run()
            #expect(report.totals.droppedBy[.language] == 1)
        }
    }

    @Test("count identities are enforced in code")
    func consistencyCheck() throws {
        var counts = CleaningCounts()
        counts.input = 3
        counts.kept = 1
        counts.rejected = 1
        #expect(throws: DataError.self) { try counts.checkConsistency(context: "test") }
        counts.rejected = 2
        counts.droppedBy = [.duplicate: 2]
        counts.imagesKeptAsIs = 1
        try counts.checkConsistency(context: "test")
        // The typed keys are written as the reasons' raw values, as the report has always had them.
        let json = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(counts)) as? [String: Any])
        #expect(json["dropped_by_reason"] as? [String: Int] == ["duplicate": 2])
        let read = try JSONDecoder().decode(CleaningCounts.self, from: Data(#"{"dropped_by_reason": {"language": 1}, "failed_rules": {"language": 1, "duplicate": 1}, "input": 1, "kept": 0, "rejected": 1, "texts_masked_sensitive": 0, "texts_names_replaced": 0, "texts_boilerplate_removed": 0, "masked_characters": 0, "name_occurrences": 0, "boilerplate_occurrences": 0, "captions_removed": 0, "images_reencoded": 0, "images_kept_as_is": 0, "image_extension_mismatches": 0, "skipped_members": 0}"#.utf8))
        #expect(read.droppedBy == [.language: 1] && read.failedRules == [.language: 1, .duplicate: 1])
    }
}

/// Collects progress events from worker threads.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [CleaningProgress] = []

    func add(_ event: CleaningProgress) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    var resumed: Int {
        lock.lock()
        defer { lock.unlock() }
        return events.filter(\.resumed).count
    }
}
