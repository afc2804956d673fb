import Foundation
import Hummingbird
import Prometheus

/// The service's Prometheus metrics, in a registry of its own (not the process-wide metrics system), so several
/// servers, as in tests, never share counters.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Routes reported by name; anything else is counted as "other" so that scanners cannot grow the label set.
    static let routes: Set<String> = [
        "/", "/healthz", "/metrics", "/v1/embed/text", "/v1/embed/image", "/v1/search", "/v1/classify", "/v1/thumbnail",
    ]
    static let latencyBuckets: [Duration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].map { .milliseconds($0) }

    public init() {}

    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let label = Self.routes.contains(route) ? route : "other"
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "brivl", metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered"),
            labels: [("route", label), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "brivl", metricName: "http_request_duration", unitName: "seconds",
                helpText: "Time from request to response head"),
            labels: [("route", label)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func recordBatch(kind: String, size: Int) {
        registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "brivl", metricName: "embedding_batch", unitName: "size",
                helpText: "Inputs per forward pass of the dynamic batcher"),
            labels: [("tower", kind)], buckets: [1, 2, 4, 8, 16, 32, 64]
        ).record(Double(size))
    }

    func setIndexSize(_ count: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "brivl", metricName: "index_images", unitName: "count", helpText: "Images in the loaded index")
        ).set(to: Double(count))
    }

    /// The text exposition format.
    func exposition() -> String { registry.emitToString() }
}

/// Counts every request and its latency by route and status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.recordRequest(
            route: request.uri.path, method: request.method.rawValue, status: response.status.code,
            duration: ContinuousClock.now - start)
        return response
    }
}
