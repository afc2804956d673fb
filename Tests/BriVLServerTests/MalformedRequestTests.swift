import BriVLServer
import Foundation
import Hummingbird
import Testing

/// Every malformed or oversized request is a 4xx with a JSON message: never a 5xx, never a crash.
@Suite("Malformed requests")
struct MalformedRequestTests {
    @Test("bad JSON, wrong types, invalid UTF-8, truncated multipart, k out of range, oversized inputs")
    func malformed() async throws {
        let fixture = try ServerFixture {
            $0.limits.maxBodyBytes = 4096
            $0.limits.maxImagePixels = 100
            $0.limits.maxTextLength = 50
        }
        let json: HTTPFields = [.contentType: "application/json"]
        var truncated = MultipartBody()
        truncated.field("text", "red")
        let truncatedBody = truncated.data + Data("--\(truncated.boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n\r\n\u{89}PNG".utf8)
        let cases: [(String, HTTPRequest.Method, String, HTTPFields, Data, HTTPResponse.Status)] = [
            ("bad JSON", .post, "/v1/search", json, Data("{\"text\": ".utf8), .badRequest),
            ("JSON of the wrong shape", .post, "/v1/search", json, Data("[1, 2]".utf8), .badRequest),
            ("wrong field type", .post, "/v1/search", json, Data(#"{"text": 5}"#.utf8), .badRequest),
            ("invalid UTF-8 in JSON", .post, "/v1/search", json, Data([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]), .badRequest),
            ("invalid UTF-8 text", .post, "/v1/embed/text", [.contentType: "text/plain"], Data([0xFF, 0xFE, 0xFD]), .badRequest),
            ("wrong content type", .post, "/v1/search", [.contentType: "application/xml"], Data("<q/>".utf8), .unsupportedMediaType),
            ("no content type", .post, "/v1/embed/text", [:], Data("red".utf8), .unsupportedMediaType),
            ("multipart without boundary", .post, "/v1/search", [.contentType: "multipart/form-data"], Data("x".utf8), .badRequest),
            ("truncated multipart", .post, "/v1/search", [.contentType: truncated.contentType], truncatedBody, .badRequest),
            ("k = 0", .post, "/v1/search", json, Data(#"{"text": "red", "k": 0}"#.utf8), .badRequest),
            ("k = 10^6", .post, "/v1/search", json, Data(#"{"text": "red", "k": 1000000}"#.utf8), .badRequest),
            ("k not a number", .post, "/v1/search?k=many", json, Data(#"{"text": "red"}"#.utf8), .badRequest),
            ("text and image", .post, "/v1/search", json, Data(#"{"text": "red", "image": "aGVsbG8="}"#.utf8), .badRequest),
            ("vector of the wrong size", .post, "/v1/search", json, Data(#"{"vector": [1, 2]}"#.utf8), .badRequest),
            ("neither text nor image", .post, "/v1/search", json, Data("{}".utf8), .badRequest),
            ("empty text", .post, "/v1/search", json, Data(#"{"text": "  "}"#.utf8), .badRequest),
            ("text too long", .post, "/v1/search", json, Data(#"{"text": "\#(String(repeating: "红", count: 51))"}"#.utf8), .contentTooLarge),
            ("body too large", .post, "/v1/search", json, Data(repeating: 0x20, count: 5000), .contentTooLarge),
            ("not base64", .post, "/v1/search", json, Data(#"{"image": "%%%"}"#.utf8), .badRequest),
            ("not an image", .post, "/v1/embed/image", [.contentType: "image/jpeg"], Data("hello".utf8), .badRequest),
            ("too many pixels", .post, "/v1/embed/image", [.contentType: "image/png"], try ServerFixture.png(colour: 0), .contentTooLarge),
            ("no labels", .post, "/v1/classify", json, Data(#"{"image": "aGVsbG8=", "labels": []}"#.utf8), .badRequest),
            ("unknown route", .get, "/v1/nothing", [:], Data(), .notFound),
            ("wrong method", .get, "/v1/search", [:], Data(), .methodNotAllowed),
        ]
        for (name, method, path, headers, body, expected) in cases {
            let response = try await fixture.respond(method, path, headers: headers, body: body)
            #expect(response.status == expected, "\(name): \(response.status) \(response.text)")
            #expect((400..<500).contains(response.status.code), "\(name)")
            #expect(response.errorMessage?.isEmpty == false, "\(name): \(response.text)")
        }
        // The server still answers after all that.
        #expect(try await fixture.postJSON("/v1/search", #"{"text": "red"}"#).status == .ok)
    }
}

@Suite("Bearer token")
struct AuthenticationTests {
    @Test("without a token configured every route is open")
    func open() async throws {
        let fixture = try ServerFixture()
        #expect(try await fixture.postJSON("/v1/search", #"{"text": "red"}"#).status == .ok)
        #expect(try await fixture.respond(.get, "/metrics").status == .ok)
    }

    @Test("with a token every route but /healthz needs it, as a header or as access_token")
    func required() async throws {
        let fixture = try ServerFixture { $0.token = "s3cret" }
        #expect(try await fixture.respond(.get, "/healthz").status == .ok)
        for path in ["/", "/metrics", "/v1/thumbnail?path=red.png"] {
            let refused = try await fixture.respond(.get, path)
            #expect(refused.status == .unauthorized, "\(path)")
            #expect(refused.headers[.wwwAuthenticate] == "Bearer")
        }
        #expect(try await fixture.postJSON("/v1/search", #"{"text": "red"}"#).status == .unauthorized)
        #expect(
            try await fixture.postJSON("/v1/search", #"{"text": "red"}"#, headers: [.authorization: "Bearer wrong"]).status
                == .unauthorized)
        #expect(
            try await fixture.postJSON("/v1/search", #"{"text": "red"}"#, headers: [.authorization: "Bearer s3cret"]).status
                == .ok)
        #expect(try await fixture.respond(.get, "/v1/thumbnail?path=red.png&access_token=s3cret").status == .ok)
    }
}

@Suite("Methods, schemes and limits the HTTP specifications and the audit ask for")
struct ProtocolHardeningTests {
    @Test("a known route asked with another method is a 405 naming the allowed one; an unknown route stays 404")
    func methodNotAllowed() async throws {
        let fixture = try ServerFixture()
        let search = try await fixture.respond(.get, "/v1/search")
        #expect(search.status == .methodNotAllowed)
        #expect(search.headers[.allow] == "POST")
        #expect(search.errorMessage?.contains("GET") == true)
        let health = try await fixture.respond(.post, "/healthz")
        #expect(health.status == .methodNotAllowed)
        #expect(health.headers[.allow] == "GET")
        #expect(try await fixture.respond(.delete, "/v1/thumbnail?path=red.png").status == .methodNotAllowed)
        #expect(try await fixture.respond(.get, "/v1/nothing-here").status == .notFound)
        #expect(try await fixture.postJSON("/v1/search", #"{"text": "red"}"#).status == .ok)
    }

    @Test("the bearer scheme's name is case-insensitive; other schemes and empty credentials are no token")
    func bearerScheme() async throws {
        let fixture = try ServerFixture { $0.token = "s3cret" }
        for header in ["Bearer s3cret", "bearer s3cret", "BEARER s3cret", "  Bearer   s3cret"] {
            #expect(
                try await fixture.postJSON("/v1/search", #"{"text": "red"}"#, headers: [.authorization: header]).status
                    == .ok, "\(header)")
        }
        for header in ["Basic s3cret", "Bearer", "Bearer ", "s3cret", "Bearers3cret"] {
            #expect(
                try await fixture.postJSON("/v1/search", #"{"text": "red"}"#, headers: [.authorization: header]).status
                    == .unauthorized, "\(header)")
        }
    }

    @Test("one character carrying thousands of combining marks is refused by its bytes")
    func combiningMarks() async throws {
        let fixture = try ServerFixture()
        let text = "a" + String(repeating: "\u{0301}", count: 3000)  // one grapheme, 6,001 bytes
        #expect(text.count == 1)
        let answer = try await fixture.respond(.post, "/v1/search", headers: [.contentType: "text/plain"], body: Data(text.utf8))
        let json = try await fixture.postJSON("/v1/embed/text", "{\"text\": \"\(text)\"}")
        #expect(json.status == .contentTooLarge)
        #expect(json.errorMessage?.contains("bytes") == true, "\(json.errorMessage ?? "")")
        #expect(answer.status != .ok)
    }

    @Test("a non-loopback address needs a token or --insecure-no-auth; loopback names do not")
    func networkNeedsToken() throws {
        var configuration = ServerConfiguration()
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            configuration.host = host
            #expect(throws: Never.self) { try configuration.validate() }
        }
        for host in ["0.0.0.0", "::", "192.168.1.5", "photos.example"] {
            configuration.host = host
            configuration.token = nil
            configuration.allowsUnauthenticatedNetwork = false
            #expect(throws: ServerConfigurationError.self) { try configuration.validate() }
            configuration.token = "t"
            #expect(throws: Never.self) { try configuration.validate() }
            configuration.token = nil
            configuration.allowsUnauthenticatedNetwork = true
            #expect(throws: Never.self) { try configuration.validate() }
        }
    }
}

@Suite("Host, Origin and decode budget")
struct BrowserAttackTests {
    @Test("a loopback server refuses foreign Host headers (DNS rebinding) unless allowed, and cross-origin requests")
    func hostAndOrigin() async throws {
        let fixture = try ServerFixture()
        for host in ["localhost", "127.0.0.1:8080", "LOCALHOST:1", "[::1]:8080"] {
            #expect(try await fixture.respond(.get, "/healthz", authority: host).status == .ok, "\(host)")
        }
        let rebound = try await fixture.respond(.get, "/healthz", authority: "evil.example")
        #expect(rebound.status == .forbidden)
        #expect(rebound.errorMessage?.contains("--allowed-host") == true)
        let search = #"{"text": "red"}"#
        #expect(
            try await fixture.respond(
                .post, "/v1/search", headers: [.contentType: "text/plain", .origin: "https://evil.example"],
                body: Data(search.utf8)
            ).status == .forbidden)
        // Same host, other port: another origin.
        #expect(
            try await fixture.respond(
                .post, "/v1/search", headers: [.contentType: "application/json", .origin: "http://localhost:3000"],
                body: Data(search.utf8), authority: "localhost:8080"
            ).status == .forbidden)
        #expect(
            try await fixture.respond(
                .post, "/v1/search", headers: [.contentType: "application/json", .origin: "http://localhost:8080"],
                body: Data(search.utf8), authority: "localhost:8080"
            ).status == .ok)

        let allowed = try ServerFixture { $0.allowedHosts = ["photos.home"] }
        #expect(try await allowed.respond(.get, "/healthz", authority: "photos.home:8080").status == .ok)
        #expect(try await allowed.respond(.get, "/healthz", authority: "other.home").status == .forbidden)
        // Bound to the network without a list, any name is answered (its token protects it).
        let network = try ServerFixture {
            $0.host = "0.0.0.0"
            $0.token = "t"
        }
        #expect(
            try await network.respond(.get, "/healthz", authority: "192.168.1.20:8080").status == .ok)
    }

    @Test("the images of one request are bounded together by their header pixels, before any is decoded")
    func decodeBudget() async throws {
        let fixture = try ServerFixture {
            $0.limits.maxImagePixels = 400
            $0.limits.maxRequestPixels = 700
        }
        let boundary = "b0undary"
        func form(_ count: Int) throws -> Data {
            var body = Data()
            for index in 0..<count {
                body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\(index).png\"\r\nContent-Type: image/png\r\n\r\n".utf8))
                body.append(try ServerFixture.png(colour: index % 3, size: 16))  // 256 pixels each
                body.append(Data("\r\n".utf8))
            }
            body.append(Data("--\(boundary)--\r\n".utf8))
            return body
        }
        let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        #expect(try await fixture.respond(.post, "/v1/embed/image", headers: headers, body: try form(2)).status == .ok)
        let refused = try await fixture.respond(.post, "/v1/embed/image", headers: headers, body: try form(3))
        #expect(refused.status == .contentTooLarge)
        #expect(refused.errorMessage?.contains("768 pixels together") == true, "\(refused.errorMessage ?? "")")
    }
}
