import Foundation
import Testing

@testable import BriVLSearch

@Suite("Incremental indexing")
struct IncrementalIndexingTests {
    private func makeIndexer(_ root: String, embedder: ColourEmbedder, kind: IndexKind? = nil) -> CollectionIndexer {
        CollectionIndexer(
            directory: IndexDirectory(path: (root as NSString).appendingPathComponent("index")), embedder: embedder,
            options: IndexingOptions(kind: kind, batchSize: 4))
    }

    @Test("add, touch, modify and delete files: only new and changed content is embedded")
    func incrementalUpdates() throws {
        let root = try SearchFixtures.temporaryDirectory("incremental")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        try "a red square".write(toFile: "\(photos)/red.txt", atomically: true, encoding: .utf8)
        let embedder = ColourEmbedder()
        let indexer = makeIndexer(root, embedder: embedder)

        var progressCalls = 0
        let first = try indexer.update(root: photos) { _ in progressCalls += 1 }
        #expect(first.added == 6 && first.total == 6 && first.embedded == 6 && first.generation == 1)
        #expect(embedder.imagesEmbedded == 6)
        #expect(progressCalls >= 2)
        let index = try SearchIndex(path: indexer.directory.path)
        let searcher = try Searcher(index: index, embedder: embedder)
        let red = try searcher.search(text: "红色", k: 2)
        #expect(red.first?.path == "red.png")
        #expect(red.first?.caption == "a red square")
        #expect(try searcher.search(text: "blue", k: 1).first?.path == "blue.png")
        #expect(try searcher.search(image: SearchFixtures.png(colour: 1), k: 1).first?.path == "more/green.png")
        // The query image went through the embedder too.
        #expect(embedder.imagesEmbedded == 7)
        #expect(try searcher.search(text: "red", k: 6, filter: SearchFilter(pathPrefix: "more/")).allSatisfy { $0.path.hasPrefix("more/") })

        // Nothing changed: nothing embedded.
        let second = try indexer.update(root: photos)
        #expect(second.unchanged == 6 && second.embedded == 0 && !second.rebuilt)
        #expect(embedder.imagesEmbedded == 7)

        // A new modification time with the same bytes: metadata only.
        try SearchFixtures.touch("\(photos)/blue.png")
        let third = try indexer.update(root: photos)
        #expect(third.touched == 1 && third.embedded == 0)
        #expect(embedder.imagesEmbedded == 7)

        // New content (blue.png now shows red), a deleted file and a new one: two embeddings.
        try SearchFixtures.writePNG(colour: 0, to: "\(photos)/blue.png")
        try SearchFixtures.touch("\(photos)/blue.png", secondsLater: 20)
        try FileManager.default.removeItem(atPath: "\(photos)/more/black.png")
        try SearchFixtures.writePNG(colour: 2, to: "\(photos)/new/deep/sky.png")
        let fourth = try indexer.update(root: photos)
        #expect(fourth.changed == 1 && fourth.removed == 1 && fourth.added == 1 && fourth.total == 6)
        #expect(embedder.imagesEmbedded == 9)
        let updated = try Searcher(index: SearchIndex(path: indexer.directory.path), embedder: embedder)
        #expect(try updated.search(text: "blue", k: 1).first?.path == "new/deep/sky.png")
        #expect(Set(try updated.search(text: "red", k: 2).map(\.path)) == ["red.png", "blue.png"])
        #expect(try updated.search(text: "black", k: 6).allSatisfy { $0.path != "more/black.png" })
    }

    @Test("unreadable images are counted and listed, never fatal, and retried on the next run")
    func unreadableImages() throws {
        let root = try SearchFixtures.temporaryDirectory("unreadable")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        try Data("not an image at all".utf8).write(to: URL(fileURLWithPath: "\(photos)/broken.jpg"))
        let truncated = try SearchFixtures.png(colour: 0, size: 64).prefix(60)
        try Data(truncated).write(to: URL(fileURLWithPath: "\(photos)/truncated.png"))
        let embedder = ColourEmbedder()
        let indexer = makeIndexer(root, embedder: embedder)
        let report = try indexer.update(root: photos)
        #expect(report.total == 6)
        #expect(report.unreadable.map(\.path).sorted() == ["broken.jpg", "truncated.png"])
        let failures = try Catalog(path: try #require(try indexer.directory.current()).catalogPath, readOnly: true).failures()
        #expect(failures.count == 2)
        // Fixed on disk: picked up by the next run.
        try SearchFixtures.writePNG(colour: 3, to: "\(photos)/broken.jpg")
        let next = try indexer.update(root: photos)
        #expect(next.total == 7 && next.unreadable.map(\.path) == ["truncated.png"])
    }

    @Test("an HNSW index is rebuilt from the catalog's vectors when files go away, without embedding again")
    func hnswRebuild() throws {
        let root = try SearchFixtures.temporaryDirectory("hnsw")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        let embedder = ColourEmbedder()
        let indexer = makeIndexer(root, embedder: embedder, kind: .hnsw)
        _ = try indexer.update(root: photos)
        try FileManager.default.removeItem(atPath: "\(photos)/red.png")
        let report = try indexer.update(root: photos)
        #expect(report.rebuilt && report.total == 5 && report.embedded == 0)
        #expect(embedder.imagesEmbedded == 6)
        let index = try SearchIndex(path: indexer.directory.path)
        #expect(index.manifest.kind == .hnsw && index.count == 5)
        // Switching kind re-uses the stored vectors too.
        indexer.options.kind = .ivf
        let switched = try indexer.update(root: photos)
        #expect(switched.kind == .ivf && switched.rebuilt && switched.embedded == 0)
    }

    @Test("another model's index is rebuilt from scratch")
    func modelChange() throws {
        let root = try SearchFixtures.temporaryDirectory("model")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        let embedder = ColourEmbedder()
        _ = try makeIndexer(root, embedder: embedder).update(root: photos)
        embedder.identity = "another-model"
        // Until the index is rebuilt, searching it with the other model is refused, not answered with mixed vectors.
        let stale = try SearchIndex(path: (root as NSString).appendingPathComponent("index"))
        do {
            _ = try Searcher(index: stale, embedder: embedder)
            Issue.record("an index of another model was searched")
        } catch let error as SearchError {
            #expect("\(error)".contains("another model"), "\(error)")
        }
        let report = try makeIndexer(root, embedder: embedder).update(root: photos)
        #expect(report.added == 6 && report.embedded == 6)
        _ = try Searcher(index: try SearchIndex(path: (root as NSString).appendingPathComponent("index")), embedder: embedder)
    }

    @Test("a second build of an index in use is refused at once, and the index stays usable")
    func concurrentBuildRefused() throws {
        let root = try SearchFixtures.temporaryDirectory("locked")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = (root as NSString).appendingPathComponent("photos")
        try SearchFixtures.writeColourFolder(photos)
        let embedder = ColourEmbedder()
        let indexer = makeIndexer(root, embedder: embedder)
        _ = try indexer.update(root: photos)
        try SearchFixtures.png(colour: 2).write(to: URL(fileURLWithPath: "\(photos)/late.png"))
        try indexer.directory.withWriteLock {
            do {
                _ = try makeIndexer(root, embedder: embedder).update(root: photos)
                Issue.record("a second build ran while the first held the lock")
            } catch let error as SearchError {
                #expect("\(error)".contains("in use"), "\(error)")
            }
        }
        #expect(try SearchIndex(path: indexer.directory.path).count == 6)
        let after = try indexer.update(root: photos)
        #expect(after.added == 1 && after.total == 7)
    }
}
