import Foundation
import Torch
import TorchNN

/// How a run is spread over the ranks of a process group (data parallelism): every rank holds the whole model and
/// a slice of each global batch.
public struct DataParallelism {
    /// Where each rank's slice of the global batch comes from.
    public enum RankData: String, Codable, CaseIterable, Sendable {
        /// Each rank reads its own share of the shards (every rank reads every shard and keeps every W-th sample
        /// when there are fewer shards than ranks). Decoding is divided between the ranks; the global batches
        /// differ from a single-process run's.
        case shards
        /// Every rank reads the global batches a single process would and keeps its rows: the run reproduces the
        /// single-process run of the same seed (up to batch-norm statistics, which stay per rank), at the price of
        /// every rank reading and decoding every sample.
        case global
    }

    public var group: ProcessGroup
    public var rankData: RankData
    /// ZeRO stage 1: shard the AdamW moments across the ranks (``ShardedAdamW``).
    public var shardOptimizerState: Bool
    /// Gradients are averaged in flat buckets of about this many bytes.
    public var bucketBytes: Int

    public init(group: ProcessGroup, rankData: RankData = .shards, shardOptimizerState: Bool = true, bucketBytes: Int = 25 << 20) {
        self.group = group
        self.rankData = rankData
        self.shardOptimizerState = shardOptimizerState
        self.bucketBytes = bucketBytes
    }

    public var rank: Int { group.rank }
    public var worldSize: Int { group.worldSize }
}

/// Averages gradients across a process group in flat buckets: the gradients of a bucket are copied into one
/// contiguous tensor, summed across the ranks in one all-reduce, divided by the world size and copied back.
/// Parameters without a gradient are skipped; every rank must have gradients on the same parameters.
///
/// The reduction starts after the backward pass, not overlapped with it: the engine's C API has no hook that runs
/// as each gradient becomes ready.
public struct GradientSynchroniser: GradientAveraging {
    public let group: ProcessGroup
    public let bucketBytes: Int

    public init(group: ProcessGroup, bucketBytes: Int = 25 << 20) {
        self.group = group
        self.bucketBytes = Swift.max(1, bucketBytes)
    }

    /// The buckets the gradients fall into, in order: consecutive gradients of one dtype and device,
    /// each bucket at most ``bucketBytes`` unless a single gradient is larger.
    func buckets(_ gradients: [Tensor]) -> [[Tensor]] { Self.buckets(gradients, cap: bucketBytes) }

    static func buckets(_ gradients: [Tensor], cap bucketBytes: Int) -> [[Tensor]] {
        var buckets: [[Tensor]] = []
        var current: [Tensor] = []
        var bytes = 0
        for gradient in gradients {
            let sameKind = current.first.map { $0.dtype == gradient.dtype && $0.device == gradient.device } ?? true
            if !current.isEmpty && (!sameKind || bytes + gradient.byteCount > bucketBytes) {
                buckets.append(current)
                current = []
                bytes = 0
            }
            current.append(gradient)
            bytes += gradient.byteCount
        }
        if !current.isEmpty { buckets.append(current) }
        return buckets
    }

    /// Replaces every gradient with its mean over the ranks. Returns the bytes this rank reduced.
    @discardableResult
    public func averageGradients(of parameters: [Tensor]) throws -> Int {
        guard group.worldSize > 1 else { return 0 }
        let gradients = parameters.compactMap(\.grad)
        var bytes = 0
        try withNoGrad {
            for bucket in buckets(gradients) {
                let flat = try Tensor.cat(bucket.map { try $0.reshaped([-1]) })
                try group.allReduce([flat], .sum)
                try flat.multiplyInPlace(1 / Double(group.worldSize))
                var offset = 0
                for gradient in bucket {
                    try gradient.copyInPlace(
                        from: flat.narrowed(dimension: 0, start: offset, length: gradient.count).reshaped(gradient.shape))
                    offset += gradient.count
                }
                bytes += flat.byteCount
            }
        }
        return bytes
    }

    /// Copies rank 0's tensors (parameters, buffers, queues) to every rank.
    public func broadcastFromFirstRank(_ tensors: [Tensor]) throws {
        guard group.worldSize > 1 else { return }
        try withNoGrad {
            for bucket in buckets(tensors) {
                let flat = try Tensor.cat(bucket.map { try $0.detach().reshaped([-1]) })
                try group.broadcast([flat], from: 0)
                guard group.rank != 0 else { continue }
                var offset = 0
                for tensor in bucket {
                    try tensor.copyInPlace(
                        from: flat.narrowed(dimension: 0, start: offset, length: tensor.count).reshaped(tensor.shape))
                    offset += tensor.count
                }
            }
        }
    }
}
