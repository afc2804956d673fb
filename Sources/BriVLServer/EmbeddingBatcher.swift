import BriVLSearch
import Foundation

/// Runs the model on one dedicated thread and batches concurrent requests through it.
///
/// libtorch kernels are multi-threaded already and its modules are not meant to be called from several threads, so
/// one model thread does all the work; what concurrency buys instead is batching. Requests wait in a queue; the
/// thread takes the oldest request's kind (text or image), waits up to `maxWait` for more of that kind, and embeds
/// up to `maxBatch` of them in one forward pass. Under load batches fill at once; a lone request waits at most
/// `maxWait`. Async callers never block a cooperative thread: they suspend on a continuation.
public final class EmbeddingBatcher: @unchecked Sendable {
    private enum Job {
        case text(String, CheckedContinuation<[Float], any Error>)
        case image(Data, CheckedContinuation<ImageEmbedding, any Error>)
        /// Called with nil to run, or with the reason it will not run.
        case work(((any Error)?) -> Void)

        var kind: Int {
            switch self {
            case .text: 0
            case .image: 1
            case .work: 2
            }
        }
    }

    public let embedder: any SearchEmbedder
    public let configuration: BatchingConfiguration
    /// Called on the model thread after each batch with its kind ("text" or "image") and size.
    private let onBatch: @Sendable (String, Int) -> Void
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var stopping = false
    private var finished = false

    public init(
        embedder: any SearchEmbedder, configuration: BatchingConfiguration = .init(),
        onBatch: @escaping @Sendable (String, Int) -> Void = { _, _ in }
    ) {
        self.embedder = embedder
        self.configuration = configuration
        self.onBatch = onBatch
        // The thread keeps the batcher alive until ``shutdown()`` lets it finish.
        let thread = Thread { self.serve() }
        thread.name = "brivl-model"
        thread.stackSize = 8 << 20
        thread.start()
    }

    public func embed(text: String) async throws -> [Float] {
        try await withCheckedThrowingContinuation { enqueue(.text(text, $0)) }
    }

    public func embed(image: Data) async throws -> ImageEmbedding {
        try await withCheckedThrowingContinuation { enqueue(.image(image, $0)) }
    }

    /// Runs `body` on the model thread, between batches (for work that is not batched, like class prompts).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(
                .work { refusal in
                    if let refusal {
                        continuation.resume(throwing: refusal)
                    } else {
                        continuation.resume(with: Result { try body() })
                    }
                })
        }
    }

    /// Finishes the queued requests, stops the thread and returns once it has stopped; later requests fail. The
    /// process must not exit while the model thread is inside libtorch, whose static state is torn down at exit.
    public func shutdown() {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else {
            fail(job, BatcherStopped())
            return
        }
        queue.append(job)
        condition.signal()
    }

    private func serve() {
        while let batch = nextBatch() { process(batch) }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for work and takes the next batch: jobs of the oldest job's kind, up to `maxBatch`.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        if queue.isEmpty { return nil }
        let kind = queue[0].kind
        if kind != 2 && !stopping {
            let waitSeconds = Double(configuration.maxWait.components.seconds)
                + Double(configuration.maxWait.components.attoseconds) * 1e-18
            let deadline = Date().addingTimeInterval(waitSeconds)
            while queue.lazy.filter({ $0.kind == kind }).count < configuration.maxBatch, Date() < deadline, !stopping {
                _ = condition.wait(until: deadline)
            }
        }
        var batch: [Job] = []
        var rest: [Job] = []
        for job in queue {
            if job.kind == kind && batch.count < (kind == 2 ? 1 : configuration.maxBatch) {
                batch.append(job)
            } else {
                rest.append(job)
            }
        }
        queue = rest
        return batch
    }

    private func process(_ batch: [Job]) {
        var texts: [(String, CheckedContinuation<[Float], any Error>)] = []
        var images: [(Data, CheckedContinuation<ImageEmbedding, any Error>)] = []
        for job in batch {
            switch job {
            case .text(let text, let continuation): texts.append((text, continuation))
            case .image(let data, let continuation): images.append((data, continuation))
            case .work(let body): body(nil)
            }
        }
        if !texts.isEmpty {
            do {
                let vectors = try embedder.embedTexts(texts.map(\.0))
                for (item, vector) in zip(texts, vectors) { item.1.resume(returning: vector) }
            } catch {
                for item in texts { item.1.resume(throwing: error) }
            }
            onBatch("text", texts.count)
        }
        if !images.isEmpty {
            do {
                let results = try embedder.embedImages(images.map(\.0))
                for (item, result) in zip(images, results) { item.1.resume(returning: result) }
            } catch {
                for item in images { item.1.resume(throwing: error) }
            }
            onBatch("image", images.count)
        }
    }

    private func fail(_ job: Job, _ error: any Error) {
        switch job {
        case .text(_, let continuation): continuation.resume(throwing: error)
        case .image(_, let continuation): continuation.resume(throwing: error)
        case .work(let body): body(error)
        }
    }
}

/// A request arrived after the server began shutting down.
public struct BatcherStopped: Error, CustomStringConvertible {
    public var description: String { "the server is shutting down" }
}
