import Foundation
import Testing

@testable import BriVLSearch

@Suite("Index generations")
struct GenerationTests {
    @Test("a build that died before publishing leaves the previous generation live; the next build cleans it up")
    func abandonedBuild() throws {
        let root = try SearchFixtures.temporaryDirectory("generations")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        let directory = IndexDirectory(path: (root as NSString).appendingPathComponent("index"))
        let indexer = CollectionIndexer(directory: directory, embedder: ColourEmbedder())
        _ = try indexer.update(root: photos)

        // What a crash mid-build leaves: a newer generation folder with a partial catalog and no manifest.
        let abandoned = try directory.makeGeneration()
        try Data("partial".utf8).write(to: URL(fileURLWithPath: abandoned.catalogPath))
        let index = try SearchIndex(path: directory.path)
        #expect(index.generation.number == 1 && index.count == 6)

        // The leftover is deleted and its number reused: it was never live, so no reader can hold it.
        try SearchFixtures.writePNG(colour: 0, to: "\(photos)/another.png")
        let report = try indexer.update(root: photos)
        #expect(report.generation == 2 && report.total == 7)
        #expect(try SearchIndex(path: directory.path).generation.number == 2)
        // A run that finds nothing to do publishes nothing.
        #expect(try indexer.update(root: photos).generation == 2)
        try SearchFixtures.writePNG(colour: 1, to: "\(photos)/one-more.png")
        #expect(try indexer.update(root: photos).generation == 3)
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/generations").sorted()
        #expect(kept == ["000002", "000003"])
    }

    @Test("a folder without an index, or with a damaged pointer, is a clear error")
    func missingIndex() throws {
        let root = try SearchFixtures.temporaryDirectory("missing")
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: SearchError.self) { try SearchIndex(path: root) }
        try "garbage".write(toFile: "\(root)/CURRENT", atomically: true, encoding: .utf8)
        #expect(throws: SearchError.self) { try SearchIndex(path: root) }
    }
}
