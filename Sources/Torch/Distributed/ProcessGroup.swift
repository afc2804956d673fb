import CTorch
import Foundation

/// A group of processes that compute together through libtorch's c10d: a TCPStore rendezvous served by rank 0,
/// and a Gloo (CPU tensors) or NCCL (CUDA tensors) backend for the collectives.
///
/// Every rank must issue the same collectives in the same order with tensors of the same shapes. Each call blocks
/// until its result is in place; a peer that died or a collective that outlives ``timeout`` makes the call throw,
/// so a failed rank ends its peers' work with an error instead of a hang.
///
///     let group = try ProcessGroup(backend: .gloo, host: "127.0.0.1", port: 29500, rank: rank, worldSize: 2)
///     try group.allReduce([gradient])   // sums in place on every rank
public final class ProcessGroup: @unchecked Sendable {
    public enum Backend: String, Sendable, CaseIterable, Codable {
        /// CPU tensors over TCP; available in Debian's libtorch (with libgloo-dev's headers at build time).
        case gloo
        /// CUDA tensors over NVLink/InfiniBand; needs a CUDA libtorch (TORCH_ROOT) with NCCL.
        case nccl

        var code: ct_backend { self == .gloo ? CT_BACKEND_GLOO : CT_BACKEND_NCCL }

        /// Whether this build can create groups of this backend.
        public var isAvailable: Bool { ct_dist_backend_available(code) }
    }

    public enum ReduceOperation: Sendable {
        case sum, max, min, product

        var code: ct_reduce_op {
            switch self {
            case .sum: return CT_REDUCE_SUM
            case .max: return CT_REDUCE_MAX
            case .min: return CT_REDUCE_MIN
            case .product: return CT_REDUCE_PRODUCT
            }
        }
    }

    public let backend: Backend
    public let rank: Int
    public let worldSize: Int
    /// Bounds the rendezvous and every collective.
    public let timeout: Double
    private let handle: ct_process_group
    private let lock = NSLock()
    /// Bytes this rank has sent into reductions, gathers and broadcasts (for communication figures).
    public private(set) var bytesCommunicated = 0
    /// Wall-clock seconds spent inside collectives.
    public private(set) var secondsCommunicating = 0.0

    /// Joins a group: rank 0 listens on host:port, the others connect there. Blocks until all `worldSize` ranks
    /// have arrived or `timeout` seconds have passed.
    public init(backend: Backend, host: String, port: Int, rank: Int, worldSize: Int, timeout: Double = 300) throws {
        guard worldSize >= 1, (0..<worldSize).contains(rank) else {
            throw TorchError.invalidArgument("rank \(rank) does not fit a world of \(worldSize)")
        }
        guard (1...65535).contains(port) else { throw TorchError.invalidArgument("port \(port) is not a TCP port") }
        guard timeout > 0 else { throw TorchError.invalidArgument("the timeout must be positive, got \(timeout)") }
        guard backend.isAvailable else {
            throw TorchError.invalidArgument(
                backend == .gloo
                    ? "this build has no Gloo backend: install libgloo-dev and rebuild"
                    : "this build has no NCCL backend: build against a CUDA libtorch (TORCH_ROOT)")
        }
        var out: ct_process_group? = nil
        try check(ct_dist_init(backend.code, host, Int32(port), Int32(rank), Int32(worldSize), timeout, &out))
        guard let out else { throw TorchError.engine("the engine returned no process group") }
        handle = out
        self.backend = backend
        self.rank = rank
        self.worldSize = worldSize
        self.timeout = timeout
    }

    deinit {
        ct_dist_free(handle)
    }

    /// Reduces every tensor across the group, in place. Tensors must be contiguous.
    public func allReduce(_ tensors: [Tensor], _ operation: ReduceOperation = .sum) throws {
        guard !tensors.isEmpty else { return }
        try timed(bytes: tensors.reduce(0) { $0 + $1.byteCount }) {
            try withHandles(tensors) { handles in
                try check(ct_dist_all_reduce(handle, handles.baseAddress, Int64(handles.count), operation.code))
            }
        }
    }

    /// Every rank's `tensor` concatenated along dimension 0 in rank order: [W·n, …]. No gradient flows through it.
    public func allGather(_ tensor: Tensor) throws -> Tensor {
        try timed(bytes: tensor.byteCount) {
            try Tensor.make { ct_dist_all_gather(handle, tensor.handle, $0) }
        }
    }

    /// Overwrites the tensors of every rank with those of `root`, in place. Tensors must be contiguous.
    public func broadcast(_ tensors: [Tensor], from root: Int = 0) throws {
        guard !tensors.isEmpty else { return }
        guard (0..<worldSize).contains(root) else { throw TorchError.invalidArgument("root \(root) is not a rank") }
        try timed(bytes: tensors.reduce(0) { $0 + $1.byteCount }) {
            try withHandles(tensors) { handles in
                try check(ct_dist_broadcast(handle, handles.baseAddress, Int64(handles.count), Int32(root)))
            }
        }
    }

    /// Reduces `tensor` ([W·n, …]) across the group and returns this rank's rows [rank·n, (rank+1)·n).
    public func reduceScatter(_ tensor: Tensor, _ operation: ReduceOperation = .sum) throws -> Tensor {
        guard tensor.rank > 0, tensor.size(0) % worldSize == 0 else {
            throw TorchError.invalidArgument(
                "reduce-scatter needs a first dimension divisible by \(worldSize), got \(tensor.shape)")
        }
        return try timed(bytes: tensor.byteCount) {
            try Tensor.make { ct_dist_reduce_scatter(handle, tensor.handle, operation.code, $0) }
        }
    }

    /// Returns once every rank has called it.
    public func barrier() throws {
        try timed(bytes: 0) { try check(ct_dist_barrier(handle)) }
    }

    /// Asks the kernel to send `signal` to this process when its parent exits (Linux), so that ranks never outlive
    /// the launcher that started them. Returns the parent's process id at the time of the call.
    @discardableResult
    public static func endWithParent(signal: Int32) -> Int32 { ct_dist_end_with_parent(signal) }

    /// Resets ``bytesCommunicated`` and ``secondsCommunicating``, returning what they held.
    @discardableResult
    public func takeCommunicationFigures() -> (bytes: Int, seconds: Double) {
        lock.withLock {
            defer { bytesCommunicated = 0; secondsCommunicating = 0 }
            return (bytesCommunicated, secondsCommunicating)
        }
    }

    private func timed<R>(bytes: Int, _ body: () throws -> R) throws -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            lock.withLock {
                bytesCommunicated += bytes
                secondsCommunicating += seconds
            }
        }
        do {
            return try body()
        } catch TorchError.engine(let message) {
            throw TorchError.engine("collective failed: \(message)")
        }
    }
}

extension Tensor {
    /// Bytes of the tensor's elements.
    public var byteCount: Int { count * dtype.byteSize }
}

extension ProcessGroup {
    /// Every rank's rows in rank order ([W·n, …]), where this rank's rows are `local` itself, graph included, and
    /// the other ranks' rows are constants. A loss computed identically on every rank from the result has, with
    /// respect to `local`, its full gradient: the ranks' backward passes together cover the whole batch.
    public func gatherKeepingLocalGraph(_ local: Tensor) throws -> Tensor {
        let rows = local.size(0)
        let all = try allGather(local.detach().contiguous())
        var parts: [Tensor] = []
        if rank > 0 { parts.append(try all.narrowed(dimension: 0, start: 0, length: rank * rows)) }
        parts.append(local)
        if rank < worldSize - 1 {
            parts.append(try all.narrowed(dimension: 0, start: (rank + 1) * rows, length: (worldSize - rank - 1) * rows))
        }
        return try Tensor.cat(parts)
    }
}
