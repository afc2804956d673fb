import BriVLSearch
import Foundation

/// What the routes serve: one loaded index generation with its searcher, the batcher in front of the model, and the
/// metrics.
public final class SearchService: Sendable {
    public let searcher: Searcher
    public var index: SearchIndex { searcher.index }
    public let batcher: EmbeddingBatcher
    public let metrics: ServerMetrics
    public let limits: ServerLimits

    /// - Throws: when the index was built with vectors of another size than the model's (``Searcher``'s check)
    public init(index: SearchIndex, embedder: any SearchEmbedder, configuration: ServerConfiguration) throws {
        searcher = try Searcher(index: index, embedder: embedder)
        let metrics = ServerMetrics()
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
