import Foundation

/// Groups a shard's tar members into samples like ``ShardReader``, but never loses a sample without saying so, as a
/// cleaning run must account for every pair:
/// - when the archive breaks (truncated or corrupt header), the members of the sample being read are returned as a
///   `brokenSample` (it may be incomplete) along with the error;
/// - a second file with an extension the current sample already has starts a new sample with the same key, instead of
///   ending the shard;
/// - members that are not `key.extension` files are reported one by one.
struct CleaningSampleStream {
    enum Event {
        case sample(Sample)
        case brokenSample(Sample, Error)
        case archiveError(Error)
        case skippedMember(String)
    }

    private let tar: TarReader
    private var current: Sample? = nil
    private var finished = false

    init(path: String) throws {
        tar = try TarReader(path: path)
    }

    /// Bytes of the archive consumed so far.
    var offset: Int { tar.offset }

    mutating func next() -> Event? {
        if finished { return nil }
        while true {
            let entry: TarEntry?
            do {
                entry = try tar.next()
            } catch {
                finished = true
                if let sample = current {
                    current = nil
                    return .brokenSample(sample, error)
                }
                return .archiveError(error)
            }
            guard let entry else {
                finished = true
                defer { current = nil }
                return current.map { .sample($0) }
            }
            guard let (key, fileExtension) = Sample.split(name: entry.name) else {
                return .skippedMember(entry.name)
            }
            if var sample = current {
                if sample.key == key && sample.files[fileExtension] == nil {
                    sample.files[fileExtension] = entry.data
                    current = sample
                    continue
                }
                current = Sample(key: key, files: [fileExtension: entry.data])
                return .sample(sample)
            }
            current = Sample(key: key, files: [fileExtension: entry.data])
        }
    }
}
