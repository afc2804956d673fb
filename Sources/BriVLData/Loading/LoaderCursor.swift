/// Where a loader stands in its deterministic plan, stored in checkpoints to resume exactly.
///
/// The plan of each epoch (shard order, shuffle buffer draws, per-sample random streams) depends only on the
/// configuration's ``LoaderConfiguration/planFingerprint`` fields and the epoch, so (epoch, position) is enough:
/// a loader created from a cursor re-reads the epoch's samples before `position` (reading them, not decoding them)
/// to rebuild the shuffle buffer, and then yields exactly what the uninterrupted loader would have.
public struct LoaderCursor: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The epoch of the next sample (nominal epoch in resampled mode).
    public var epoch: Int
    /// Positions of the epoch's plan already consumed: samples yielded, skipped as bad, or dropped.
    public var position: Int
    /// Samples yielded in batches since the start of training (carried across resumptions).
    public var samplesYielded: Int
    /// Batches yielded since the start of training (carried across resumptions).
    public var batchesYielded: Int
    /// The ``LoaderConfiguration/planFingerprint`` the cursor belongs to.
    public var planFingerprint: String

    public init(epoch: Int, position: Int, samplesYielded: Int, batchesYielded: Int, planFingerprint: String) {
        self.epoch = epoch
        self.position = position
        self.samplesYielded = samplesYielded
        self.batchesYielded = batchesYielded
        self.planFingerprint = planFingerprint
    }

    /// The start of the first epoch.
    public static func start(of configuration: LoaderConfiguration) -> LoaderCursor {
        LoaderCursor(epoch: 0, position: 0, samplesYielded: 0, batchesYielded: 0,
                     planFingerprint: configuration.planFingerprint)
    }

    enum CodingKeys: String, CodingKey {
        case epoch
        case position
        case samplesYielded = "samples_yielded"
        case batchesYielded = "batches_yielded"
        case planFingerprint = "plan_fingerprint"
    }

    public var description: String {
        "epoch \(epoch) position \(position) (\(batchesYielded) batches, \(samplesYielded) samples)"
    }
}
