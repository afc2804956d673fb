import Foundation

/// The embedding of one image for the index: its vector, or why it could not be read.
public enum ImageEmbedding: Sendable, Equatable {
    case vector([Float])
    case unreadable(String)
}

/// The two towers as the search side needs them: images and texts to L2-normalised vectors of one space.
///
/// The indexer, the searcher and the server only see this protocol, so tests count and fake embeddings, and a
/// remote embedding service could stand in for the local model.
public protocol SearchEmbedder: AnyObject, Sendable {
    var dimension: Int { get }
    /// Names the model the vectors come from; an index built with another identity is rebuilt from scratch.
    var identity: String { get }
    /// One result per image, in order: an unreadable image does not fail the others.
    func embedImages(_ images: [Data]) throws -> [ImageEmbedding]
    func embedTexts(_ texts: [String]) throws -> [[Float]]
    /// One vector per class: the normalised mean of its prompts' embeddings.
    func embedClasses(prompts: [[String]]) throws -> [[Float]]
}
