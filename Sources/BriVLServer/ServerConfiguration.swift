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
    /// Serve a non-loopback address without a token (`--insecure-no-auth`): anyone on the network could search
    /// the photos and see their paths and thumbnails.
    public var allowsUnauthenticatedNetwork = false
    /// Host names the server answers to besides loopback ones and the bound address (`--allowed-host`): any other
    /// `Host` header is refused, so a web page cannot reach a loopback server through DNS rebinding.
    public var allowedHosts: [String] = []
    /// A connection with no request in progress is closed after this long (half-open and idle clients).
    public var idleTimeout: Duration = .seconds(30)

    public init() {}

    /// The host names (lower-cased, without port) requests may name in their `Host` header: for a loopback server
    /// the loopback names and `allowedHosts`; nil (any) for a server bound to the network without `allowedHosts`,
    /// which is reached by names it cannot know and is protected by its token.
    public var acceptedHostNames: Set<String>? {
        if !Self.isLoopback(host) && allowedHosts.isEmpty { return nil }
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        names.insert(Self.hostName(host))
        for name in allowedHosts { names.insert(Self.hostName(name)) }
        return names
    }

    /// `Host` header or address → the bare, lower-cased name: port and IPv6 brackets removed.
    static func hostName(_ value: String) -> String {
        var text = value.lowercased().trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("[") {
            if let end = text.firstIndex(of: "]") { text = String(text[text.index(after: text.startIndex)..<end]) }
            return text
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { text = String(text[..<colon]) }
        return text
    }

    /// Whether `host` only accepts connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return name == "localhost" || name == "::1" || name.hasPrefix("127.") || name.hasSuffix(".localhost")
    }

    /// Refuses a configuration that would serve the network without authentication, unless that was asked for.
    public func validate() throws {
        if !Self.isLoopback(host), token == nil, !allowsUnauthenticatedNetwork {
            throw ServerConfigurationError(
                "--host \(host) serves other machines, and there is no token: give one (--token-file, BRIVL_TOKEN or "
                    + "--token), or pass --insecure-no-auth to serve the network without authentication")
        }
    }
}

/// A server configuration that must not start, with the reason.
public struct ServerConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Bounds on what one request may ask for; exceeding one is a 4xx with a JSON message, never a crash.
public struct ServerLimits: Sendable, Equatable {
    /// Request bodies (uploads included).
    public var maxBodyBytes = 16 << 20
    /// Decoded image size, checked from the image header before any pixel is decoded.
    public var maxImagePixels = 40_000_000
    /// Decoded pixels of all the images of one request together (from their headers): the decode work one
    /// request may put on the model thread.
    public var maxRequestPixels = 80_000_000
    public var maxK = 1000
    /// Characters (grapheme clusters) of one query text.
    public var maxTextLength = 1000
    /// UTF-8 bytes of one query text, checked first: one "character" can hold any number of combining marks.
    public var maxTextBytes = 4096
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
