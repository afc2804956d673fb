import Foundation

/// Errors of the data pipeline, with enough context (file, offset, key, line) to find the bad input.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case io(file: String, message: String)
    /// A tar archive ends inside a header or an entry's data.
    case truncatedArchive(file: String, offset: Int)
    /// A tar header is not a valid ustar/GNU/pax header.
    case corruptHeader(file: String, offset: Int, reason: String)
    /// An entry or sample cannot be stored (name too long, duplicate file in a sample, …).
    case invalidSample(key: String, reason: String)
    /// A line of a caption or index file is malformed.
    case invalidRecord(file: String, line: Int, reason: String)
    /// A file is not what it should be (wrong magic number, sizes that disagree, data cut short).
    case invalidFile(file: String, reason: String)
    case invalidConfiguration(String)
    /// A loader cursor saved by a run with another plan (shards, seed, mode, ranks).
    case cursorMismatch(String)
    /// An epoch yielded nothing usable (every shard unreadable or every sample bad).
    case noUsableSamples(String)
    /// Cleaning counts do not add up: a bug, reported rather than written into a wrong report.
    case inconsistentCounts(String)
    /// An output folder holds a cleaning run with other settings or inputs.
    case resumeMismatch(String)
    /// A run was stopped before it finished.
    case cancelled

    public var description: String {
        switch self {
        case .io(let file, let message): return "\(file): \(message)"
        case .truncatedArchive(let file, let offset): return "\(file): archive is truncated at byte \(offset)"
        case .corruptHeader(let file, let offset, let reason): return "\(file): corrupt tar header at byte \(offset): \(reason)"
        case .invalidSample(let key, let reason): return "sample \(key): \(reason)"
        case .invalidRecord(let file, let line, let reason): return "\(file):\(line): \(reason)"
        case .invalidFile(let file, let reason): return "\(file): \(reason)"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        case .cursorMismatch(let message): return message
        case .noUsableSamples(let message): return message
        case .inconsistentCounts(let message): return "counts are inconsistent (\(message))"
        case .resumeMismatch(let message): return message
        case .cancelled: return "the run was cancelled"
        }
    }
}
