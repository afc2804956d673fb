import Foundation
import Hummingbird

/// An error the API answers with: a status and a message a client can act on, sent as `{"error": "..."}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

    /// The JSON response for this error.
    func response() -> Response {
        Self.json(status: status, message: message)
    }

    static func json(status: HTTPResponse.Status, message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data(#"{"error":"internal error"}"#.utf8)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into a JSON response: ours keep their status, Hummingbird's (404, 405, 413 from a body that is
/// too large) keep theirs, and anything else is a 500 whose details go to the log rather than to the client.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPError {
            return APIError.json(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            return APIError.json(status: error.status, message: error.status.reasonPhrase)
        } catch let error as BatcherStopped {
            return APIError.json(status: .serviceUnavailable, message: error.description)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return APIError.json(status: .internalServerError, message: "internal error")
        }
    }
}

/// Requires the bearer token on every route except the health check. Browsers cannot add a header when they
/// follow a link or load an `<img>`, so the token is also accepted as the `access_token` query parameter
/// (RFC 6750, section 2.3).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    static var openPaths: Set<String> { ["/healthz"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.openPaths.contains(request.uri.path) { return try await next(request, context) }
        let presented = Self.bearerToken(in: request.headers[.authorization]) ?? request.uri.queryParameters.get("access_token")
        guard let presented, Self.constantTimeEqual(presented, token) else {
            var response = APIError.json(status: .unauthorized, message: "a bearer token is required")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    /// The credentials of an `Authorization: Bearer <token>` header. The scheme's name is case-insensitive
    /// (RFC 7235 §2.1), so `bearer` and `BEARER` are the same; anything else is no token.
    static func bearerToken(in header: String?) -> String? {
        guard let header else { return nil }
        let trimmed = header.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " "), trimmed[..<space].lowercased() == "bearer" else { return nil }
        let credentials = trimmed[space...].drop { $0 == " " }
        return credentials.isEmpty ? nil : String(credentials)
    }

    /// Compares without an early exit, so response times do not reveal how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<Swift.max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}

/// Answers 405 with an `Allow` header when a known route is asked for with a method it does not take (the router
/// alone would say 404, as if the route did not exist).
struct MethodCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path → the methods it answers.
    let routes: [String: Set<HTTPRequest.Method>]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let methods = routes[request.uri.path], !methods.contains(request.method) {
            var response = APIError.json(
                status: .methodNotAllowed, message: "\(request.uri.path) does not take \(request.method.rawValue)")
            response.headers[.allow] = methods.map(\.rawValue).sorted().joined(separator: ", ")
            return response
        }
        return try await next(request, context)
    }
}

/// Refuses requests whose `Host` is not one of the server's names (DNS rebinding: a page on evil.example whose name
/// now points at 127.0.0.1 sends `Host: evil.example`), and cross-site requests: a browser sends `Origin` with
/// every cross-origin request and with POSTs, and a page of another origin must not drive the API.
struct HostAndOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    /// nil: any host (a server bound to the network is reached by names it cannot know; its token protects it).
    let acceptedHosts: Set<String>?

    /// The port of a `Host` header (80 when it names none).
    static func port(of authority: String) -> Int {
        let afterBracket = authority.lastIndex(of: "]").map { authority[authority.index(after: $0)...] } ?? authority[...]
        guard let colon = afterBracket.lastIndex(of: ":"), afterBracket.filter({ $0 == ":" }).count == 1 else { return 80 }
        return Int(afterBracket[afterBracket.index(after: colon)...]) ?? 80
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let authority = request.head.authority else {
            return APIError.json(status: .badRequest, message: "the request names no host")
        }
        let host = ServerConfiguration.hostName(authority)
        if let acceptedHosts, !acceptedHosts.contains(host) {
            return APIError.json(
                status: .forbidden,
                message: "this server does not answer to host \(host); start it with --allowed-host \(host) if that is its name")
        }
        // Same origin means the same host and port as the request was sent to.
        if let origin = request.headers[.origin] {
            guard let url = URL(string: origin), let originHost = url.host,
                ServerConfiguration.hostName(originHost) == host, (url.port ?? 80) == Self.port(of: authority)
            else {
                return APIError.json(status: .forbidden, message: "cross-origin requests from \(origin) are refused")
            }
        }
        return try await next(request, context)
    }
}
