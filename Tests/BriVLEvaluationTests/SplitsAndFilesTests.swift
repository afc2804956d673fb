import Foundation
import Testing

@testable import BriVLEvaluation

@Suite struct ClassSplitTests {
    @Test func splitsAreDisjointCompleteAndReproducible() throws {
        let ratio = try ClassSplit.Ratio(parsing: "8/22")
        let splits = try ClassSplit.draw(classes: 30, ratio: ratio, count: 5, seed: 7)
        #expect(splits.count == 5)
        for split in splits {
            #expect(split.unseen.count == 8 && split.seen.count == 22)
            #expect(Set(split.unseen).isDisjoint(with: split.seen))
            #expect(Set(split.unseen + split.seen) == Set(0..<30))
        }
        #expect(Set(splits.map(\.unseen)).count > 1)
        #expect(try ClassSplit.draw(classes: 30, ratio: ratio, count: 5, seed: 7) == splits)
        #expect(try ClassSplit.draw(classes: 30, ratio: ratio, count: 5, seed: 8) != splits)
    }

    @Test func allUnseenIsOneSplit() throws {
        let splits = try ClassSplit.draw(classes: 10, ratio: .init(unseen: 10, seen: 0), count: 5, seed: 0)
        #expect(splits == [ClassSplit(seen: [], unseen: Array(0..<10))])
    }

    @Test func badRatiosAreRefused() {
        #expect(throws: EvaluationError.self) { try ClassSplit.Ratio(parsing: "8:22") }
        #expect(throws: EvaluationError.self) { try ClassSplit.Ratio(parsing: "0/30") }
        #expect(throws: EvaluationError.self) {
            try ClassSplit.draw(classes: 30, ratio: .init(unseen: 8, seen: 20), count: 1, seed: 0)
        }
    }
}

@Suite struct ClassPromptTests {
    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString).txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func namesGoIntoTemplatesOfTheirScript() throws {
        let path = try file("# news\nstocks\t股票\tstock market\n\nsports\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let templates = try PromptTemplates(chinese: ["{}新闻"], english: ["news about {}"])
        let classes = try ClassPrompts.read(classFile: path, templates: templates)
        #expect(classes.labels == ["stocks", "sports"])
        #expect(classes.displayNames == ["股票", "sports"])
        #expect(classes.prompts == [["股票新闻", "news about stock market"], ["news about sports"]])
        #expect(try classes.keeping(language: "en").prompts == [["news about stock market"], ["news about sports"]])
        #expect(throws: EvaluationError.self) { try classes.keeping(language: "zh") }
    }

    @Test func malformedFilesNameTheLine() throws {
        let duplicate = try file("a\nb\na\n")
        let template = try file("一张{}的照片\na photo\n")
        defer { for path in [duplicate, template] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(throws: EvaluationError.invalidFile(file: duplicate, line: 3, message: "class 'a' appears twice")) {
            try ClassPrompts.read(classFile: duplicate, templates: .images)
        }
        #expect {
            try PromptTemplates.read(from: template)
        } throws: { error in
            guard case .invalidFile(_, let line, _) = error as? EvaluationError else { return false }
            return line == 2
        }
    }

    @Test func headlineFilesNameTheBadLine() throws {
        let classes = try NewsCategories.classes(for: ["stocks", "sports"], templates: .news)
        #expect(classes.displayNames == ["股票", "体育"])
        let good = try file("stocks\t恒生指数收平\nsports\t勒芒大奖赛开赛\n")
        let noTab = try file("stocks\t恒生指数收平\nsports 勒芒大奖赛开赛\n")
        let empty = try file("stocks\t恒生指数收平\n\nsports\t  \n")
        let unknown = try file("stocks\t恒生指数收平\ngame\t实况足球\n")
        defer { for path in [good, noTab, empty, unknown] { try? FileManager.default.removeItem(atPath: path) } }
        let texts = try LabelledTexts.read(from: good, classes: classes)
        #expect(texts.texts == ["恒生指数收平", "勒芒大奖赛开赛"] && texts.labels == [0, 1])
        for (path, line) in [(noTab, 2), (empty, 3), (unknown, 2)] {
            #expect {
                try LabelledTexts.read(from: path, classes: classes)
            } throws: { error in
                guard case .invalidFile(let file, let at, _) = error as? EvaluationError else { return false }
                return file == path && at == line
            }
        }
    }
}

@Suite struct LabelledImageSetTests {
    @Test func listFilesReadImagesAndNameBadLines() throws {
        let root = try ClassificationFixtures.temporaryDirectory("list")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for label in 0..<2 {
            try ClassificationFixtures.png(label: label, left: true).write(to: URL(fileURLWithPath: "\(root)/\(label).png"))
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(root)/broken.png"))
        let classes = try ClassPrompts.filling(labels: ["红色", "绿色"], names: [["红色"], ["绿色"]], templates: .images)
        let good = "\(root)/list.tsv"
        try "0.png\t红色\nbroken.png\t绿色\n1.png\t绿色\n".write(toFile: good, atomically: true, encoding: .utf8)
        let set = try LabelledImageSet.load(path: good, classes: classes, imageSize: 16)
        #expect(set.labels == [0, 1] && set.sources == ["0.png", "1.png"])
        #expect(set.images.shape == [2, 3, 16, 16])
        #expect(set.skipped.count == 1 && set.skipped[0].hasPrefix("broken.png"))

        let missing = "\(root)/missing.tsv"
        try "0.png\t红色\n\nnone.png\t红色\n".write(toFile: missing, atomically: true, encoding: .utf8)
        let unknown = "\(root)/unknown.tsv"
        try "0.png\t蓝色\n".write(toFile: unknown, atomically: true, encoding: .utf8)
        for (path, line) in [(missing, 3), (unknown, 1)] {
            #expect {
                try LabelledImageSet.load(path: path, classes: classes, imageSize: 16)
            } throws: { error in
                guard case .invalidFile(let file, let at, _) = error as? EvaluationError else { return false }
                return file == path && at == line
            }
        }
    }

    @Test func shardsAndClassFoldersGiveTheirLabels() throws {
        let root = try ClassificationFixtures.temporaryDirectory("sets")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ClassificationFixtures.writeShards(to: "\(root)/shards", count: 12)
        try ClassificationFixtures.writeClassFile(to: "\(root)/classes.txt")
        let classes = try ClassPrompts.read(classFile: "\(root)/classes.txt", templates: .images)
        let fromShards = try LabelledImageSet.load(path: "\(root)/shards", classes: classes, imageSize: 16, limit: 9)
        #expect(fromShards.labels == [0, 1, 2, 3, 4, 5, 0, 1, 2])

        for (label, name) in [(0, "red"), (2, "blue")] {
            try FileManager.default.createDirectory(atPath: "\(root)/folders/\(name)", withIntermediateDirectories: true)
            try ClassificationFixtures.png(label: label, left: false).write(to: URL(fileURLWithPath: "\(root)/folders/\(name)/a.png"))
        }
        let folderClasses = try ClassPrompts.resolve(forImages: "\(root)/folders", classFile: nil, templates: nil)
        #expect(folderClasses.labels == ["blue", "red"])
        let fromFolders = try LabelledImageSet.load(path: "\(root)/folders", classes: folderClasses, imageSize: 16)
        #expect(fromFolders.labels == [0, 1] && fromFolders.sources == ["blue/a.png", "red/a.png"])
    }
}
