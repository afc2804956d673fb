import Foundation
import ModelTestSupport
import Testing

@testable import BriVLTraining

/// The real thing: `brivl train` killed with SIGKILL mid-run (possibly mid-checkpoint) and resumed with `--resume`
/// must log exactly the losses of an uninterrupted run.
@Suite("Exact resume after SIGKILL", .serialized)
struct KillAndResumeTests {
    private func launch(_ arguments: [String]) throws -> Process { try BuiltTool.start(arguments) }

    private func highestLoggedStep(_ run: String) -> Int {
        let path = (run as NSString).appendingPathComponent("metrics.jsonl")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").compactMap { line -> Int? in
            guard let record = try? JSONDecoder().decode(StepRecord.self, from: Data(line.utf8)), record.kind == "train"
            else { return nil }
            return record.step
        }.max() ?? 0
    }

    @Test("kill -9 during training, resume: identical losses from the checkpoint on")
    func killAndResume() throws {
        let root = try TrainingFixtures.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let steps = 60
        let configPath = (root as NSString).appendingPathComponent("training.json")
        try TrainingFixtures.configuration(root: root, steps: steps).encodedJSON()
            .write(to: URL(fileURLWithPath: configPath))
        let common = ["--config", configPath, "--threads", "1"]

        let straight = (root as NSString).appendingPathComponent("straight")
        let reference = try launch(["train", "--output", straight] + common)
        reference.waitUntilExit()
        #expect(reference.terminationStatus == 0)

        let killed = (root as NSString).appendingPathComponent("killed")
        let victim = try launch(["train", "--output", killed] + common)
        let deadline = Date().addingTimeInterval(120)
        while victim.isRunning, highestLoggedStep(killed) < 7, Date() < deadline { usleep(2_000) }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal, "the run finished before it could be killed")
        let loggedBeforeKill = highestLoggedStep(killed)
        #expect(loggedBeforeKill >= 7 && loggedBeforeKill < steps)

        let resumed = try launch(["train", "--output", killed, "--resume", "--threads", "1"])
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)

        let expected = try TrainingFixtures.losses(in: straight)
        let actual = try TrainingFixtures.losses(in: killed)
        #expect(expected.count == steps)
        #expect(actual.count == steps)
        let differing = (1...steps).filter { expected[$0] != actual[$0] }
        #expect(differing.isEmpty, "steps with different losses: \(differing)")
    }
}
