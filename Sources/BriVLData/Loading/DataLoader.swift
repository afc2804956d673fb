import Foundation
import Torch

/// One training batch.
public struct Batch: Sendable {
    /// - Shape: [batch, 3, imageSize, imageSize], float32, as the ``SampleDecoder`` wrote it.
    public var images: Tensor
    /// - Shape: [batch, maxTextLength], int64, padded with the tokenizer's padding id.
    public var tokenIDs: Tensor
    /// - Shape: [batch, maxTextLength], int64: 1 for tokens, 0 for padding.
    public var attentionMask: Tensor
    /// The WebDataset keys of the samples, in batch order.
    public var keys: [String]
    /// The caption each sample contributed.
    public var captions: [String]
    /// One hard negative caption for each sample that has one, when ``LoaderConfiguration/hardNegatives`` is on;
    /// nil when off or when no sample of the batch has one.
    public var hardNegatives: HardNegativeBatch?
    /// Where to resume to continue right after this batch; store it with the checkpoint taken after this step.
    public var cursor: LoaderCursor

    public var count: Int { keys.count }
}

/// A batch's hard negative captions (``PairRecord/hardNegatives``), tokenised and padded like the captions.
public struct HardNegativeBatch: Sendable {
    /// - Shape: [negatives, maxTextLength], int64.
    public var tokenIDs: Tensor
    /// - Shape: [negatives, maxTextLength], int64: 1 for tokens, 0 for padding.
    public var attentionMask: Tensor
    /// For each negative, the batch row of the sample it was written for.
    public var owners: [Int]

    public var count: Int { owners.count }
}

/// Streams batches from WebDataset shards: background threads read the shards along a seeded plan, decode, augment
/// and tokenise, and keep up to ``LoaderConfiguration/queueDepth`` batches ready.
///
/// The batches depend only on the plan fields of the configuration (see ``LoaderConfiguration/planFingerprint``),
/// never on the number of workers or their timing, and a loader created from a batch's ``Batch/cursor`` continues
/// with exactly the batches an uninterrupted loader would have yielded. Bad samples are skipped and counted in
/// ``statistics``; a shard that breaks off contributes its intact samples.
///
/// The threads start in the initialiser and stop when the loader is closed or released.
///
///     var configuration = LoaderConfiguration(shards: try LoaderConfiguration.discoverShards(in: "data/shards"))
///     configuration.seed = 7
///     let loader = try DataLoader(configuration: configuration, decoder: decoder, tokenizer: tokenizer)
///     while let batch = try loader.next() { … checkpoint.loaderCursor = batch.cursor }
public final class DataLoader: @unchecked Sendable {
    public let configuration: LoaderConfiguration
    let pipeline: LoaderPipeline
    private let lock = NSLock()
    private var lastCursor: LoaderCursor

    /// - Parameter cursor: where to resume (a ``Batch/cursor`` from an earlier run under the same plan); nil starts
    ///   at the first epoch.
    /// - Throws: `DataError.invalidConfiguration` for a bad configuration, `.cursorMismatch` for a cursor of another
    ///   plan.
    public init(
        configuration: LoaderConfiguration, decoder: any SampleDecoder, tokenizer: any CaptionTokenizer,
        resumingFrom cursor: LoaderCursor? = nil
    ) throws {
        try configuration.validate()
        let start = cursor ?? .start(of: configuration)
        guard start.planFingerprint == configuration.planFingerprint else {
            throw DataError.cursorMismatch(
                "the loader cursor belongs to plan \(start.planFingerprint), but this configuration's plan is "
                    + "\(configuration.planFingerprint): shards, seed, mode, shuffle buffer, rank and world size "
                    + "must match the run that saved it")
        }
        guard start.epoch >= 0, start.position >= 0 else {
            throw DataError.invalidConfiguration("the loader cursor is invalid: \(start)")
        }
        if let size = decoder.outputSize, size != configuration.imageSize {
            throw DataError.invalidConfiguration(
                "the decoder produces \(size)-pixel images but image_size is \(configuration.imageSize)")
        }
        self.configuration = configuration
        lastCursor = start
        pipeline = LoaderPipeline(configuration: configuration, decoder: decoder, tokenizer: tokenizer, start: start)
        pipeline.launch()
    }

    deinit {
        pipeline.stop()
    }

    /// The next batch, waiting for it if none is ready; nil after the last epoch or once closed.
    /// - Throws: `DataError.noUsableSamples` when an epoch has nothing usable (every shard unreadable or every
    ///   sample bad), and engine errors from building the tensors. After an error every call throws it again.
    public func next() throws -> Batch? {
        switch pipeline.nextEntry() {
        case .batch(let batch):
            lock.withLock { lastCursor = batch.cursor }
            return batch
        case .failed(let error):
            throw error
        case .finished, nil:
            return nil
        }
    }

    /// Where the loader stands after the last batch ``next()`` returned (the start cursor before the first).
    public var cursor: LoaderCursor { lock.withLock { lastCursor } }

    /// A snapshot of the counters. Samples still in flight are not counted yet.
    public var statistics: LoaderStatistics { pipeline.statistics }

    /// Threads of this loader still running (0 once exhausted or closed).
    public var runningThreads: Int { pipeline.threadsRunning }

    /// Stops the background threads and waits until they have returned (up to `timeout` seconds); later calls to
    /// ``next()`` return nil. Releasing the loader does the same.
    /// - Returns: whether every thread returned in time.
    @discardableResult
    public func close(timeout: Double = 30) -> Bool {
        pipeline.stop(timeout: timeout)
    }
}
