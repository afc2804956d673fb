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
            ("wrong method", .get, "/v1/search", [:], Data(), .notFound),
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
