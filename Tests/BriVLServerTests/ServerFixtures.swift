import BriVLSearch
import BriVLServer
import Foundation
import Hummingbird
import Imaging
import Logging
import NIOCore
import NIOEmbedded

/// Same colour embedder as the search tests: an image is its mean colour, a text the colour it names.
final class ColourEmbedder: SearchEmbedder, @unchecked Sendable {
    static let colours: [(english: String, chinese: String, pixel: [UInt8])] = [
        ("red", "红色", [230, 20, 20]), ("green", "绿色", [20, 210, 30]), ("blue", "蓝色", [20, 30, 230]),
        ("yellow", "黄色", [230, 220, 20]), ("white", "白色", [240, 240, 240]), ("black", "黑色", [10, 10, 10]),
    ]

    let dimension = 4
    let identity = "colour-embedder"
    private let lock = NSLock()
    private var batches: [Int] = []

    /// Sizes of the batches the model side received.
    var batchSizes: [Int] { lock.withLock { batches } }

    func embedImages(_ images: [Data]) throws -> [ImageEmbedding] {
        lock.withLock { batches.append(images.count) }
        return images.map { data in
            guard let image = try? ImageDecoder.decode(data: data) else { return .unreadable("not an image") }
            var sums = [Double](repeating: 0, count: 3)
            image.withUnsafeBufferPointer { pixels in
                for index in 0..<pixels.count { sums[index % 3] += Double(pixels[index]) }
            }
            let count = Double(image.width * image.height)
            return .vector(Self.normalised(sums.map { Float($0 / count / 255) } + [0.2]))
        }
    }

    func embedTexts(_ texts: [String]) throws -> [[Float]] {
        lock.withLock { batches.append(texts.count) }
        return texts.map(Self.vector(text:))
    }

    func embedClasses(prompts: [[String]]) throws -> [[Float]] {
        prompts.map { Self.vector(text: $0.joined(separator: " ")) }
    }

    static func vector(text: String) -> [Float] {
        let colour = colours.first { text.contains($0.english) || text.contains($0.chinese) }
        return normalised((colour?.pixel ?? [128, 128, 128]).map { Float($0) / 255 } + [0.2])
    }

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }
}

/// A served collection in a temporary folder: six colour pictures indexed with the colour embedder.
final class ServerFixture: @unchecked Sendable {
    let root: String
    let embedder = ColourEmbedder()
    let index: SearchIndex
    let service: SearchService
    let configuration: ServerConfiguration

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-server-\(UUID().uuidString)").path
        let photos = (root as NSString).appendingPathComponent("photos")
        for (number, colour) in ColourEmbedder.colours.enumerated() {
            let folder = number % 2 == 0 ? photos : (photos as NSString).appendingPathComponent("more")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Self.png(colour: number).write(to: URL(fileURLWithPath: "\(folder)/\(colour.english).png"))
        }
        // A file beside the collection that must never be served.
        try "secret".write(toFile: "\(root)/secret.txt", atomically: true, encoding: .utf8)
        let directory = IndexDirectory(path: (root as NSString).appendingPathComponent("index"))
        _ = try CollectionIndexer(directory: directory, embedder: embedder).update(root: photos)
        index = try SearchIndex(path: directory.path)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        self.configuration = configuration
        service = try SearchService(index: index, embedder: embedder, configuration: configuration)
    }

    deinit {
        service.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    static func png(colour: Int, size: Int = 16) throws -> Data {
        let pixel = ColourEmbedder.colours[colour].pixel
        return try ImageEncoder.png(
            try Image(width: size, height: size, pixels: Array((0..<size * size).map { _ in pixel }.joined())))
    }

    /// Drives the router in process, without sockets: the request goes through the same middleware and handlers
    /// the server uses, and the answer's body is collected.
    func respond(
        _ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: Data = Data(),
        authority: String = "localhost"
    ) async throws -> TestResponse {
        let responder = buildRouter(service: service, configuration: configuration).buildResponder()
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: authority, path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let context = BasicRequestContext(
            source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        let response = try await responder.respond(to: request, context: context)
        let collector = BodyCollector()
        try await response.body.write(collector)
        return TestResponse(status: response.status, headers: response.headers, body: collector.data)
    }

    func postJSON(_ path: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await respond(.post, path, headers: fields, body: Data(json.utf8))
    }
}

struct TestResponse {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
    }

    /// The message of an error answer (`{"error": "..."}`), nil when the body is not one.
    var errorMessage: String? { (try? json())?["error"] as? String }
}

/// Collects a response body written by Hummingbird.
final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    private(set) var data = Data()

    func write(_ buffer: ByteBuffer) async throws {
        data.append(contentsOf: buffer.readableBytesView)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A multipart/form-data body.
struct MultipartBody {
    let boundary = "brivl-test-boundary"
    var data = Data()

    mutating func field(_ name: String, _ value: String) {
        data.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8))
    }

    mutating func file(_ name: String, filename: String, type: String, _ bytes: Data) {
        data.append(
            Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n"
                    .utf8))
        data.append(bytes)
        data.append(Data("\r\n".utf8))
    }

    func finished() -> Data { data + Data("--\(boundary)--\r\n".utf8) }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }
}
