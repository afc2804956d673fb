import Foundation

/// Iterates the samples of one WebDataset tar shard, grouping consecutive members by key.
///
/// Members whose names have no extension are reported through `skippedMembers` rather than dropped silently.
public final class ShardReader: Sequence, IteratorProtocol {
    public let path: String
    private let tar: TarReader
    private var pending: (key: String, extension: String, data: Data)? = nil
    private var failure: Error? = nil
    private var deferredFailure: Error? = nil
    /// Names of archive members that are not `key.extension` files.
    public private(set) var skippedMembers: [String] = []
    /// Samples returned so far.
    public private(set) var samplesRead = 0

    public init(path: String) throws {
        self.path = path
        tar = try TarReader(path: path)
    }

    /// The error that ended iteration early (a truncated or corrupt archive), if any. The samples before it were
    /// returned intact; the partial sample at the break is not.
    public var error: Error? { failure }

    /// The next sample; nil at the end or after an error (see ``error``).
    public func next() -> Sample? {
        do {
            return try nextSample()
        } catch {
            failure = error
            return nil
        }
    }

    /// The next archive entry. When the archive breaks inside an entry of a *different* key, the sample in hand is
    /// complete: iteration returns it first and raises the error on the following call.
    private func nextEntry(completing sample: Sample?) throws -> TarEntry? {
        do {
            return try tar.next()
        } catch {
            if let sample, let name = tar.interruptedEntryName, let (key, _) = Sample.split(name: name), key != sample.key {
                deferredFailure = error
                return nil
            }
            throw error
        }
    }

    /// Like `next()`, but throws the archive error.
    public func nextSample() throws -> Sample? {
        if failure != nil { return nil }
        if let deferred = deferredFailure {
            deferredFailure = nil
            throw deferred
        }
        var sample: Sample? = nil
        if let pending {
            sample = Sample(key: pending.key, files: [pending.extension: pending.data])
            self.pending = nil
        }
        while let entry = try nextEntry(completing: sample) {
            guard let (key, ext) = Sample.split(name: entry.name) else {
                skippedMembers.append(entry.name)
                continue
            }
            if var current = sample {
                if current.key == key {
                    if current.files[ext] != nil {
                        throw DataError.invalidSample(key: key, reason: "\(path) has two .\(ext) files for this key")
                    }
                    current.files[ext] = entry.data
                    sample = current
                    continue
                }
                pending = (key, ext, entry.data)
                samplesRead += 1
                return current
            }
            sample = Sample(key: key, files: [ext: entry.data])
        }
        if sample != nil { samplesRead += 1 }
        return sample
    }
}
