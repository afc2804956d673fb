import Foundation
import ModelTestSupport
import Testing

@Suite("brivl serve's command line")
struct ServeCommandTests {
    @Test("an empty --token is refused before anything starts, instead of serving without authentication")
    func emptyTokenRefused() throws {
        let executable = try #require(BuiltTool.brivl, "the brivl executable is not built beside the tests")
        for token in ["", "  "] {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["serve", "--checkpoint", "/nonexistent", "--token", token]
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(message.contains("--token is empty"), "\(message)")
        }
    }
}
