import BriVLServer
import Foundation
import Hummingbird
import Testing

/// The API driven through the router in process, without sockets.
@Suite("HTTP API")
struct RouterTests {
    @Test("health, text search, image search, filters and thumbnails")
    func searchRoutes() async throws {
        let fixture = try ServerFixture()
        let health = try await fixture.respond(.get, "/healthz")
        #expect(health.status == .ok)
        #expect(try health.json()["images"] as? Int == 6)

        let text = try await fixture.postJSON("/v1/search", #"{"text": "一片红色", "k": 3}"#)
        #expect(text.status == .ok)
        let results = try #require(try text.json()["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect(results.first?["path"] as? String == "red.png")
        let thumbnail = try #require(results.first?["thumbnail"] as? String)

        let image = try await fixture.respond(
            .post, "/v1/search?k=2", headers: [.contentType: "image/png"], body: try ServerFixture.png(colour: 2))
        #expect(image.status == .ok)
        #expect(((try image.json()["results"] as? [[String: Any]])?.first?["path"] as? String) == "blue.png")

        var form = MultipartBody()
        form.field("text", "green")
        form.field("k", "1")
        let multipart = try await fixture.respond(
            .post, "/v1/search", headers: [.contentType: form.contentType], body: form.finished())
        #expect(((try multipart.json()["results"] as? [[String: Any]])?.first?["path"] as? String) == "more/green.png")

        let filtered = try await fixture.postJSON("/v1/search", #"{"text": "red", "k": 6, "filter": {"pathPrefix": "more/"}}"#)
        let filteredPaths = (try filtered.json()["results"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(filteredPaths.count == 3 && filteredPaths.allSatisfy { $0.hasPrefix("more/") })

        // A query vector, as a scatter-gather front end sends to each shard.
        let byVector = try await fixture.postJSON("/v1/search", #"{"vector": [0.9, 0.1, 0.1, 0.2], "k": 1}"#)
        #expect(((try byVector.json()["results"] as? [[String: Any]])?.first?["path"] as? String) == "red.png")

        let served = try await fixture.respond(.get, thumbnail)
        #expect(served.status == .ok)
        #expect(served.headers[.contentType] == "image/jpeg")
        #expect(served.body.prefix(2) == Data([0xFF, 0xD8]))
    }

    @Test("thumbnails only serve indexed images: traversal, absolute and unknown paths are 404")
    func thumbnailTraversal() async throws {
        let fixture = try ServerFixture()
        for path in ["../secret.txt", "%2E%2E/secret.txt", "/etc/passwd", "more/../../secret.txt", "missing.png", "more"] {
            let response = try await fixture.respond(.get, "/v1/thumbnail?path=\(path)")
            #expect(response.status == .notFound, "\(path)")
            #expect(response.errorMessage != nil)
        }
        #expect(try await fixture.respond(.get, "/v1/thumbnail").status == .badRequest)
    }

    @Test("embedding texts and images (raw bytes and multipart), and classifying an image")
    func embeddingAndClassification() async throws {
        let fixture = try ServerFixture()
        let texts = try await fixture.postJSON("/v1/embed/text", #"{"texts": ["red", "蓝色"]}"#)
        #expect(texts.status == .ok)
        #expect((try texts.json()["embeddings"] as? [[Double]])?.count == 2)
        #expect(try texts.json()["dimension"] as? Int == 4)
        let plain = try await fixture.respond(
            .post, "/v1/embed/text", headers: [.contentType: "text/plain; charset=utf-8"], body: Data("绿色".utf8))
        #expect(plain.status == .ok)

        let raw = try await fixture.respond(
            .post, "/v1/embed/image", headers: [.contentType: "image/png"], body: try ServerFixture.png(colour: 0))
        #expect((try raw.json()["embeddings"] as? [[Double]])?.count == 1)
        var form = MultipartBody()
        form.file("image", filename: "a.png", type: "image/png", try ServerFixture.png(colour: 0))
        form.file("image", filename: "b.png", type: "image/png", try ServerFixture.png(colour: 1))
        let multipart = try await fixture.respond(
            .post, "/v1/embed/image", headers: [.contentType: form.contentType], body: form.finished())
        #expect((try multipart.json()["embeddings"] as? [[Double]])?.count == 2)

        let image = try ServerFixture.png(colour: 3).base64EncodedString()
        let classified = try await fixture.postJSON(
            "/v1/classify", #"{"image": "\#(image)", "labels": ["红色", "黄色", "blue"]}"#)
        #expect(classified.status == .ok)
        #expect(((try classified.json()["labels"] as? [[String: Any]])?.first?["label"] as? String) == "黄色")
    }

    @Test("the page, metrics, and concurrent requests batched through the model thread")
    func pageMetricsAndBatching() async throws {
        let fixture = try ServerFixture { $0.batching = BatchingConfiguration(maxBatch: 8, maxWait: .milliseconds(200)) }
        let page = try await fixture.respond(.get, "/")
        #expect(page.status == .ok && page.text.contains("id=\"results\""))

        try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
            for number in 0..<16 {
                group.addTask { try await fixture.postJSON("/v1/search", #"{"text": "\#(ColourEmbedder.colours[number % 6].english)"}"#).status }
            }
            for try await status in group { #expect(status == .ok) }
        }
        let sizes = fixture.embedder.batchSizes
        #expect(sizes.reduce(0, +) >= 16)
        #expect(sizes.max()! > 1, "concurrent texts were embedded one by one: \(sizes)")
        #expect(sizes.max()! <= 8)

        let metrics = try await fixture.respond(.get, "/metrics")
        #expect(metrics.status == .ok)
        #expect(metrics.text.contains(#"brivl_http_requests_total{route="/v1/search",method="POST",status="200"} 16"#))
        #expect(metrics.text.contains("brivl_embedding_batch_size"))
    }
}
