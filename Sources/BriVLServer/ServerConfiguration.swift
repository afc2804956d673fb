import Foundation

/// Everything `brivl serve` can be told, with defaults safe for a machine on a shared network.
public struct ServerConfiguration: Sendable {
    /// Loopback by default: exposing the service is a deliberate choice (`--host 0.0.0.0`).
    public var host = "127.0.0.1"
    /// 0 asks the system for a free port (tests).
    public var port = 8080
    /// When set, every route except `/healthz` needs `Authorization: Bearer <token>` (or `?access_token=`).
    public var token: String?
    public var limits = ServerLimits()
    public var batching = BatchingConfiguration()

    public init() {}
}

/// Bounds on what one request may ask for; exceeding one is a 4xx with a JSON message, never a crash.
public struct ServerLimits: Sendable, Equatable {
    /// Request bodies (uploads included).
    public var maxBodyBytes = 16 << 20
    /// Decoded image size, checked from the image header before any pixel is decoded.
    public var maxImagePixels = 40_000_000
    public var maxK = 1000
    /// Characters of one query text.
    public var maxTextLength = 1000
    /// Texts or images in one embedding request.
    public var maxItems = 64
    /// Longer side of a thumbnail, in pixels.
    public var thumbnailSize = 256

    public init() {}
}

/// Dynamic batching of concurrent requests through the towers: a batch starts when `maxBatch` inputs of one kind
/// are waiting or when the oldest has waited `maxWait`, whichever comes first.
public struct BatchingConfiguration: Sendable, Equatable {
    public var maxBatch = 16
    public var maxWait: Duration = .milliseconds(4)

    public init(maxBatch: Int = 16, maxWait: Duration = .milliseconds(4)) {
        self.maxBatch = Swift.max(1, maxBatch)
        self.maxWait = maxWait
    }
}
