import Foundation

/// Everything that can go wrong while indexing or searching a collection, with the file or setting involved.
public enum SearchError: Error, Equatable, CustomStringConvertible {
    /// FAISS refused an operation; the message is its own.
    case engine(String)
    case io(path: String, message: String)
    case invalidArgument(String)
    /// The index folder is missing, incomplete or was built for another model.
    case index(path: String, message: String)
    case database(path: String, message: String)

    public var description: String {
        switch self {
        case .engine(let message): "vector index: \(message)"
        case .io(let path, let message): "\(path): \(message)"
        case .invalidArgument(let message): message
        case .index(let path, let message): "index \(path): \(message)"
        case .database(let path, let message): "metadata \(path): \(message)"
        }
    }
}
