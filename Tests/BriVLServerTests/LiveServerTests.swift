import BriVLServer
import Foundation
import Hummingbird
import Testing

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running server on a free loopback port, as `brivl serve` runs it.
final class LiveServer: @unchecked Sendable {
    let fixture: ServerFixture
    let port: Int
    private let task: Task<Void, any Error>

    init(fixture: ServerFixture) async throws {
        self.fixture = fixture
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let application = buildApplication(service: fixture.service, configuration: fixture.configuration) { port in
            sink.yield(port)
        }
        task = Task { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        self.port = port
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Stops the server (graceful shutdown through task cancellation) and waits for it.
    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

@Suite("Real sockets", .serialized)
struct LiveServerTests {
    @Test("the server answers over TCP on loopback: health, search, and a bearer token")
    func overTCP() async throws {
        let server = try await LiveServer(fixture: try ServerFixture { $0.token = "tcp-token" })
        defer { Task { await server.stop() } }
        let (healthBody, health) = try await URLSession.shared.data(from: URL(string: "\(server.base)/healthz")!)
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: healthBody, as: UTF8.self).contains("\"ok\""))

        var request = URLRequest(url: URL(string: "\(server.base)/v1/search")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"text": "yellow", "k": 2}"#.utf8)
        let (_, refused) = try await URLSession.shared.data(for: request)
        #expect((refused as? HTTPURLResponse)?.statusCode == 401)
        request.setValue("Bearer tcp-token", forHTTPHeaderField: "Authorization")
        let (body, answer) = try await URLSession.shared.data(for: request)
        #expect((answer as? HTTPURLResponse)?.statusCode == 200)
        let results = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["results"] as? [[String: Any]]
        #expect(results?.first?["path"] as? String == "more/yellow.png")
        await server.stop()
    }

    /// Chromium on the machine (Debian `chromium`), or nil.
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    @Test("the page in headless Chromium: a query in the URL fills the results grid; a screenshot is saved",
          .enabled(if: LiveServerTests.chromium != nil, "chromium is not installed"))
    func browser() async throws {
        let server = try await LiveServer(fixture: try ServerFixture())
        let chromium = try #require(Self.chromium)
        let url = "\(server.base)/?q=%E7%BA%A2%E8%89%B2"  // ?q=红色
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-chromium-\(UUID().uuidString)").path
        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-page-\(UUID().uuidString).png").path
        defer {
            try? FileManager.default.removeItem(atPath: profile)
            try? FileManager.default.removeItem(atPath: screenshot)
        }
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile)",
            "--virtual-time-budget=10000", "--window-size=1100,800",
        ]
        let dom = try await Self.run(chromium, common + ["--dump-dom", url])
        #expect(dom.contains("class=\"result\""), "no results in the page: \(dom.suffix(2000))")
        #expect(dom.contains("red.png"))
        #expect(dom.contains("results in"))
        _ = try await Self.run(chromium, common + ["--screenshot=\(screenshot)", url])
        let attributes = try FileManager.default.attributesOfItem(atPath: screenshot)
        #expect(((attributes[.size] as? Int) ?? 0) > 1000)
        await server.stop()
    }

    /// Runs a program off the cooperative pool (the server answers it from there) and returns its standard output.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    @Test("a connection that sends half a request and goes quiet is closed after the idle timeout")
    func idleConnectionsClosed() async throws {
        let server = try await LiveServer(fixture: try ServerFixture { $0.idleTimeout = .seconds(1) })
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(server.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        let partial = Array("GET /healthz HTTP/1.1\r\nHo".utf8)
        #expect(send(socket, partial, partial.count, 0) == partial.count)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = recv(socket, &buffer, buffer.count, 0)
        let waited = ContinuousClock.now - started
        // Closed by the server (0, or a reset), well before the 10-second receive timeout.
        #expect(received <= 0)
        #expect(waited < .seconds(8), "held for \(waited)")
        await server.stop()
    }
}
