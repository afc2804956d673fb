/// Why a sample was left out of the batches.
public enum SkipReason: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
    /// No `jpg`/`jpeg`/`png`/`webp` file.
    case missingImage = "missing_image"
    /// No `json` or `txt` caption file.
    case missingCaption = "missing_caption"
    /// The caption file is not valid UTF-8.
    case invalidUTF8 = "invalid_utf8"
    /// The caption JSON does not parse as a ``PairRecord``.
    case invalidCaption = "invalid_caption"
    /// The caption record holds no non-blank text.
    case emptyCaption = "empty_caption"
    /// The image decoder failed.
    case undecodableImage = "undecodable_image"
    /// The tokenizer failed or returned no tokens.
    case tokenizationFailed = "tokenization_failed"

    public static func < (lhs: SkipReason, rhs: SkipReason) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The first sample skipped for a reason, to show what went wrong.
public struct SkippedSample: Codable, Sendable, Equatable {
    public var key: String
    /// The error behind the skip (decoder, caption parser, tokenizer), when there is one.
    public var detail: String?
}

/// A shard that ended early or could not be opened; the samples before the error were used.
public struct ShardFailure: Codable, Sendable, Equatable {
    public var path: String
    public var epoch: Int
    public var message: String
    /// Samples read from the shard before the error.
    public var samplesBefore: Int

    enum CodingKeys: String, CodingKey {
        case path, epoch, message
        case samplesBefore = "samples_before"
    }
}

/// What a loader has done since it was created. `samplesRead = samplesYielded + skipped + samplesDropped` once the
/// loader has been drained; while it runs, samples still in flight are counted by none of them.
public struct LoaderStatistics: Codable, Sendable, Equatable {
    /// Samples that reached the batch assembler (yielded, skipped or dropped).
    public var samplesRead = 0
    public var samplesYielded = 0
    public var batchesYielded = 0
    /// Bad samples left out, by reason.
    public var skipped: [SkipReason: Int] = [:]
    /// The first skipped sample of each reason.
    public var firstSkipped: [SkipReason: SkippedSample] = [:]
    /// Samples left out by `drop_last` at the end of an epoch.
    public var samplesDropped = 0
    /// Hard negative captions yielded with the batches (``LoaderConfiguration/hardNegatives``).
    public var hardNegativesYielded = 0
    /// Hard negatives drawn for a sample that could not be tokenised; the sample was used without one.
    public var hardNegativesUnusable = 0
    /// Samples re-read without decoding to reach a resumed cursor.
    public var samplesFastForwarded = 0
    /// Archive members that are not `key.extension` files.
    public var membersIgnored = 0
    public var shardsOpened = 0
    public var shardFailures: [ShardFailure] = []
    /// Seconds ``DataLoader/next()`` spent waiting for a batch: the loader's cost to the training loop.
    public var consumerWaitSeconds = 0.0
    /// Seconds worker threads spent waiting for work, summed over workers.
    public var workerIdleSeconds = 0.0
    /// Seconds worker threads spent decoding, augmenting and tokenising, summed over workers.
    public var workerBusySeconds = 0.0
    /// Seconds the reader waited because the workers and the assembler were a full window behind (back-pressure).
    public var readerBlockedSeconds = 0.0
    /// Seconds the assembler spent copying samples into batch tensors.
    public var assemblySeconds = 0.0
    /// Seconds the assembler waited for the next sample in plan order (while later ones may be ready).
    public var assemblerWaitSeconds = 0.0

    public var samplesSkipped: Int { skipped.values.reduce(0, +) }

    /// "reason: count (first: key, error)" for each reason, for messages.
    public var skippedSummary: String {
        skipped.sorted { $0.key < $1.key }.map { reason, count in
            var text = "\(reason.rawValue): \(count)"
            if let first = firstSkipped[reason] {
                text += " (first: \(first.key)\(first.detail.map { ", \($0)" } ?? ""))"
            }
            return text
        }.joined(separator: "; ")
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case samplesRead = "samples_read"
        case samplesYielded = "samples_yielded"
        case batchesYielded = "batches_yielded"
        case skipped
        case firstSkipped = "first_skipped"
        case samplesDropped = "samples_dropped"
        case hardNegativesYielded = "hard_negatives_yielded"
        case hardNegativesUnusable = "hard_negatives_unusable"
        case samplesFastForwarded = "samples_fast_forwarded"
        case membersIgnored = "members_ignored"
        case shardsOpened = "shards_opened"
        case shardFailures = "shard_failures"
        case consumerWaitSeconds = "consumer_wait_seconds"
        case workerIdleSeconds = "worker_idle_seconds"
        case workerBusySeconds = "worker_busy_seconds"
        case readerBlockedSeconds = "reader_blocked_seconds"
        case assemblySeconds = "assembly_seconds"
        case assemblerWaitSeconds = "assembler_wait_seconds"
    }
}
