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
