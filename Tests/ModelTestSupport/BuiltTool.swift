import Foundation

/// The `brivl` executable of the build the tests belong to, for tests that run the real command (kill it, start
/// ranks, index a folder).
public enum BuiltTool {
    /// `brivl` beside the test bundle, or in one of the folders above it; nil when it was not built.
    public static var brivl: URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("brivl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }
}

extension BuiltTool {
    public struct NotBuilt: Error, CustomStringConvertible {
        public var description: String { "the brivl executable is not built beside the tests" }
    }

    /// Starts `brivl arguments` with its output discarded.
    public static func start(_ arguments: [String]) throws -> Process {
        guard let executable = brivl else { throw NotBuilt() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
