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

    /// Runs `brivl serve` with `arguments` (after --checkpoint) and returns its exit, how it ended and its errors.
    private func serve(_ arguments: [String], environment: [String: String]? = nil) throws
        -> (status: Int32, exited: Bool, errors: String)
    {
        let executable = try #require(BuiltTool.brivl, "the brivl executable is not built beside the tests")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--checkpoint", "/nonexistent"] + arguments
        if let environment { process.environment = environment }
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit, message)
    }

    @Test("numeric options out of range are errors naming the option, never a trap or a wrapped value")
    func numericOptions() throws {
        let cases: [([String], String)] = [
            (["--max-megapixels", "1e13"], "--max-megapixels"), (["--max-megapixels", "inf"], "--max-megapixels"),
            (["--max-megapixels", "nan"], "--max-megapixels"), (["--max-wait-ms", "1e300"], "--max-wait-ms"),
            (["--max-wait-ms", "-1"], "--max-wait-ms"), (["--max-body-mb", "17592186044416"], "--max-body-mb"),
            (["--port", "70000"], "--port"),
        ]
        for (arguments, option) in cases {
            let result = try serve(arguments)
            #expect(result.exited, "\(arguments) ended by a signal")
            #expect(result.status != 0, "\(arguments)")
            #expect(result.errors.contains(option), "\(arguments): \(result.errors)")
        }
    }

    @Test("--host 0.0.0.0 without a token refuses to start, naming --insecure-no-auth; a token file is read")
    func networkWithoutToken() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["BRIVL_TOKEN"] = nil
        let refused = try serve(["--host", "0.0.0.0"], environment: environment)
        #expect(refused.status != 0 && refused.errors.contains("--insecure-no-auth"), "\(refused.errors)")

        // With the flag, or with a token from a file, it gets as far as loading the (missing) checkpoint.
        let insecure = try serve(["--host", "0.0.0.0", "--insecure-no-auth"], environment: environment)
        #expect(insecure.status != 0 && !insecure.errors.contains("--insecure-no-auth"), "\(insecure.errors)")
        #expect(insecure.errors.contains("/nonexistent"), "\(insecure.errors)")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenFile = folder.appendingPathComponent("token").path
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let withFile = try serve(["--host", "0.0.0.0", "--token-file", tokenFile], environment: environment)
        #expect(!withFile.errors.contains("--insecure-no-auth") && withFile.errors.contains("/nonexistent"), "\(withFile.errors)")

        try "\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let empty = try serve(["--token-file", tokenFile], environment: environment)
        #expect(empty.status != 0 && empty.errors.contains("holds no token"), "\(empty.errors)")
        let both = try serve(["--token", "a", "--token-file", tokenFile], environment: environment)
        #expect(both.status != 0 && both.errors.contains("not both"), "\(both.errors)")
    }
}
