import Foundation
import Torch

/// Starts N copies of a command on this machine as the ranks of one job, with torchrun's variables, and watches
/// them: when one rank fails, the others are stopped (SIGTERM, then SIGKILL after a grace period) and the failure
/// is reported, so a job never hangs on a dead rank. SIGINT and SIGTERM sent to the launcher are passed on to every
/// rank.
public struct LocalLauncher {
    public var executable: String
    public var arguments: [String]
    public var processCount: Int
    /// The rendezvous port; nil picks a free one.
    public var port: Int?
    /// Extra variables for every rank.
    public var environment: [String: String]
    /// Seconds between SIGTERM and SIGKILL for the surviving ranks after a failure.
    public var gracePeriod: Double
    /// Where ranks other than 0 send their standard output (rank 0 and every rank's standard error are inherited).
    public var quietOtherRanks: Bool

    public init(
        executable: String = "/proc/self/exe", arguments: [String], processCount: Int, port: Int? = nil,
        environment: [String: String] = [:], gracePeriod: Double = 5, quietOtherRanks: Bool = true
    ) {
        self.executable = executable
        self.arguments = arguments
        self.processCount = processCount
        self.port = port
        self.environment = environment
        self.gracePeriod = gracePeriod
        self.quietOtherRanks = quietOtherRanks
    }

    public struct Failure: Error, CustomStringConvertible {
        public var rank: Int
        public var status: Int32
        public var description: String {
            "rank \(rank) exited with status \(status); the other ranks were stopped"
        }
    }

    /// Names this launcher's process id in its ranks' environment (see ``endWithLauncher()``).
    public static let launcherVariable = "BRIVL_LAUNCHER_PID"

    /// Called by a rank at start: when a launcher started this process, ask the kernel for SIGTERM when the
    /// launcher dies, so no rank outlives a killed launcher; exits at once if the launcher is already gone.
    public static func endWithLauncher() {
        guard let text = ProcessInfo.processInfo.environment[launcherVariable], let launcher = Int32(text) else { return }
        if ProcessGroup.endWithParent(signal: SIGTERM) != launcher { exit(1) }
    }

    /// Runs the job to the end. Throws ``Failure`` naming the first rank that failed.
    public func run() throws {
        guard processCount >= 1 else { throw TrainingError.invalidConfiguration("--nproc must be at least 1") }
        let port = try self.port ?? LaunchEnvironment.freeLocalPort()
        var processes: [Process] = []
        for rank in 0..<processCount {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                .merging(LaunchEnvironment.local(rank: rank, worldSize: processCount, port: port)) { $1 }
                .merging([Self.launcherVariable: "\(getpid())"]) { $1 }
            if rank > 0 && quietOtherRanks { process.standardOutput = FileHandle.nullDevice }
            do {
                try process.run()
            } catch {
                stop(processes)
                throw TrainingError.invalidConfiguration("cannot start rank \(rank) (\(executable)): \(error)")
            }
            processes.append(process)
        }
        // Foundation starts each child in a process group of its own, so a terminal's Ctrl-C reaches only this
        // process: pass SIGINT and SIGTERM on to every rank.
        let started = processes
        let forwarding = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                for process in started where process.isRunning { kill(process.processIdentifier, number) }
            }
            source.resume()
            return source
        }
        defer { forwarding.forEach { $0.cancel() } }
        while true {
            if let failed = processes.indices.first(where: { !processes[$0].isRunning && processes[$0].terminationStatus != 0 }) {
                let status = processes[failed].terminationStatus
                stop(processes)
                throw Failure(rank: failed, status: status)
            }
            if processes.allSatisfy({ !$0.isRunning }) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private func stop(_ processes: [Process]) {
        for process in processes where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(gracePeriod)
        while processes.contains(where: \.isRunning) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
    }
}
