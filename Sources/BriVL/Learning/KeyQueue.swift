import Torch

/// A first-in-first-out queue of K embedding keys (MoCo's negatives), filled one global batch at a time.
///
/// K must be a multiple of the batch enqueued, so every batch lands in one contiguous slice; the queue starts with
/// random unit vectors (as MoCo does) and its state — keys and write position — is what a checkpoint stores.
public final class KeyQueue {
    /// [K, dim]
    public let keys: Tensor
    /// Where the next batch is written.
    public private(set) var position: Int

    public var capacity: Int { keys.size(0) }

    public init(capacity: Int, dimension: Int, generator: Generator? = nil) throws {
        guard capacity > 0, dimension > 0 else {
            throw ModelError.invalidConfiguration("a key queue needs a positive size, got \(capacity)×\(dimension)")
        }
        keys = try Functional.normalize(Tensor.randn([capacity, dimension], generator: generator), dimension: 1)
        position = 0
    }

    /// Restores a queue from a checkpoint.
    public init(keys: Tensor, position: Int) throws {
        guard keys.rank == 2, (0..<keys.size(0)).contains(position) else {
            throw ModelError.invalidConfiguration("queue position \(position) does not fit keys \(keys.shape)")
        }
        self.keys = keys
        self.position = position
    }

    /// Puts back a checkpoint's keys and write position (same shape required).
    public func restore(keys saved: Tensor, position: Int) throws {
        guard saved.shape == keys.shape, (0..<capacity).contains(position) else {
            throw ModelError.invalidConfiguration(
                "a saved queue of \(saved.shape) at \(position) does not fit this queue of \(keys.shape)")
        }
        try withNoGrad { try keys.copyInPlace(from: saved) }
        self.position = position
    }

    /// Overwrites the oldest keys with `batch` [B, dim] (detached), B dividing K.
    public func enqueue(_ batch: Tensor) throws {
        let size = batch.size(0)
        guard batch.rank == 2, batch.size(1) == keys.size(1), size > 0, capacity % size == 0 else {
            throw ModelError.invalidInput(
                "cannot enqueue \(batch.shape) into a queue of \(keys.shape): the batch must divide the queue size")
        }
        try withNoGrad {
            try keys.narrowed(dimension: 0, start: position, length: size).copyInPlace(from: batch.detach())
        }
        position = (position + size) % capacity
    }
}
