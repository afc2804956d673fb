import Foundation

/// What the catalog knows of one indexed image; its `id` is also its vector's id in the ``VectorStore``.
public struct CatalogEntry: Sendable, Equatable, Codable {
    public var id: Int64
    /// Relative to the collection's root folder, `/`-separated.
    public var path: String
    public var size: Int64
    /// Modification time, seconds since 1970.
    public var modified: Double
    /// ``ContentHash`` of the file's bytes, hex.
    public var contentHash: String
    /// The text of a `.txt` file beside the image (`beach.jpg` → `beach.txt`), if there is one.
    public var caption: String?

    public init(id: Int64, path: String, size: Int64, modified: Double, contentHash: String, caption: String?) {
        self.id = id
        self.path = path
        self.size = size
        self.modified = modified
        self.contentHash = contentHash
        self.caption = caption
    }
}

/// An image the indexer could not embed, and why; it is listed, counted and retried on the next run.
public struct UnreadableImage: Sendable, Equatable, Codable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
