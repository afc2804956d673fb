import BriVLSearch
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging

/// The HTTP application around a ``SearchService``: binds `configuration.host:port`, closes connections idle for
/// `configuration.idleTimeout`, and shuts down gracefully on SIGINT and SIGTERM (Hummingbird's service group),
/// after which the model thread is stopped.
public func buildApplication(
    service: SearchService, configuration: ServerConfiguration, logger: Logger = Logger(label: "brivl.serve"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, configuration: configuration),
        server: .http1(configuration: HTTP1Channel.Configuration(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "brivl"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// Every route of the service, from one table. Middleware order: metrics see every answer, errors become JSON
/// before that, a foreign `Host` or `Origin` is a 403, a known path asked with another method is a 405, and
/// authentication runs inside all of them so refused requests are counted and answered in JSON too.
public func buildRouter(service: SearchService, configuration: ServerConfiguration) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    let routes = SearchRoutes(service: service)
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response
    let table: [(method: HTTPRequest.Method, path: String, handler: Handler)] = [
        (.get, "/healthz", { _, _ in
            try routes.json(HealthResponse(status: "ok", images: service.index.count, generation: service.index.generation.number))
        }),
        (.get, "/metrics", { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: service.metrics.exposition())))
        }),
        (.get, "/", { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: WebPage.html)))
        }),
        (.post, "/v1/embed/text", { request, _ in try await routes.embedText(request) }),
        (.post, "/v1/embed/image", { request, _ in try await routes.embedImage(request) }),
        (.post, "/v1/search", { request, _ in try await routes.search(request) }),
        (.post, "/v1/classify", { request, _ in try await routes.classify(request) }),
        (.get, "/v1/thumbnail", { request, _ in try await routes.thumbnail(request) }),
    ]
    router.add(middleware: MetricsMiddleware(metrics: service.metrics))
    router.add(middleware: JSONErrorMiddleware())
    router.add(middleware: HostAndOriginMiddleware(acceptedHosts: configuration.acceptedHostNames))
    router.add(
        middleware: MethodCheckMiddleware(
            routes: Dictionary(table.map { ($0.path, Set([$0.method])) }, uniquingKeysWith: { $0.union($1) })))
    if let token = configuration.token, !token.isEmpty { router.add(middleware: BearerTokenMiddleware(token: token)) }
    for route in table { router.on(RouterPath(route.path), method: route.method, use: route.handler) }
    return router
}
