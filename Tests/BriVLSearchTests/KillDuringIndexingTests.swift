import Foundation
import ModelTestSupport
import Testing

@testable import BriVLSearch

/// The real thing: `brivl index` killed with SIGKILL while it writes a new generation must leave the previous
/// index loadable and answering, and the next run must finish the job.
@Suite("SIGKILL during indexing", .serialized)
struct KillDuringIndexingTests {
    private func launch(_ arguments: [String]) throws -> Process { try BuiltTool.start(arguments) }

    @Test("kill -9 mid-build: the previous generation still loads and answers; a rerun completes")
    func killMidBuild() throws {
        let root = try SearchFixtures.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let run = try TinyCheckpoint.make(in: root)
        let photos = (root as NSString).appendingPathComponent("photos")
        let indexPath = (root as NSString).appendingPathComponent("index")
        try SearchFixtures.writeColourFolder(photos)
        let arguments = ["index", "--checkpoint", run, "--images", photos, "--index", indexPath, "--threads", "1"]

        let first = try launch(arguments)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(try IndexDirectory(path: indexPath).current()?.number == 1)

        // Enough new images, embedded one per batch, that the second build is still running when it is killed.
        for index in 0..<600 {
            try SearchFixtures.writePNG(colour: index % 6, to: "\(photos)/batch/\(String(format: "%04d", index)).png")
        }
        let victim = try launch(arguments + ["--batch-size", "1"])
        let catalog = "\(indexPath)/generations/000002/catalog.sqlite"
        let deadline = Date().addingTimeInterval(120)
        while victim.isRunning, !FileManager.default.fileExists(atPath: catalog), Date() < deadline { usleep(1_000) }
        usleep(300_000)
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal, "the build finished before it could be killed")

        let survivor = try SearchIndex(path: indexPath)
        #expect(survivor.generation.number == 1 && survivor.count == 6)
        let query = Array(try survivor.allVectors().values.prefix(survivor.manifest.dimension))
        #expect(try survivor.search(vector: query, k: 3).count == 3)

        let rerun = try launch(arguments)
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        let finished = try SearchIndex(path: indexPath)
        #expect(finished.count == 606)
        // The killed build's folder was deleted and its number reused by the rerun.
        #expect(finished.generation.number == 2)
    }
}
