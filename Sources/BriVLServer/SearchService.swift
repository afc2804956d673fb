import BriVLSearch
import Foundation

/// What the routes serve: one loaded index generation, the batcher in front of the model, and the metrics.
public final class SearchService: Sendable {
    public let index: SearchIndex
    public let batcher: EmbeddingBatcher
    public let metrics: ServerMetrics
    public let limits: ServerLimits

    public init(index: SearchIndex, embedder: any SearchEmbedder, configuration: ServerConfiguration) throws {
        guard index.manifest.dimension == embedder.dimension else {
            throw SearchError.index(
                path: index.directory.path,
                message: "built with \(index.manifest.dimension)-d vectors, the model gives \(embedder.dimension)")
        }
        let metrics = ServerMetrics()
        self.index = index
        self.metrics = metrics
        limits = configuration.limits
        batcher = EmbeddingBatcher(embedder: embedder, configuration: configuration.batching) { kind, size in
            metrics.recordBatch(kind: kind, size: size)
        }
        metrics.setIndexSize(index.count)
    }

    /// Stops the model thread after the queued requests, and waits for it.
    public func shutdown() { batcher.shutdown() }
}
