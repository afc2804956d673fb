import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Torch

/// One float32 image of 3 × size × size, recycled between samples so that decoding allocates nothing.
final class PixelBuffer: @unchecked Sendable {
    let pixels: UnsafeMutableBufferPointer<Float>

    init(count: Int) {
        pixels = .allocate(capacity: count)
    }

    deinit {
        pixels.deallocate()
    }
}

/// The image memory of whole batches, recycled when the engine releases a batch tensor, so that each batch does not
/// fault in fresh pages (38 MB for 64 images of 224²). Outlives the loader while batches it lent are alive.
final class BatchMemoryPool: @unchecked Sendable {
    let floats: Int
    private let keep: Int
    private let lock = NSLock()
    private var free: [UnsafeMutablePointer<Float>] = []

    init(floats: Int, keep: Int) {
        self.floats = floats
        self.keep = keep
    }

    deinit {
        for block in free { block.deallocate() }
    }

    func take() -> UnsafeMutablePointer<Float> {
        lock.withLock { free.popLast() } ?? .allocate(capacity: floats)
    }

    func give(_ block: UnsafeMutablePointer<Float>) {
        let kept = lock.withLock { () -> Bool in
            guard free.count < keep else { return false }
            free.append(block)
            return true
        }
        if !kept { block.deallocate() }
    }
}

/// A decoded, augmented and tokenised sample, waiting to be batched.
struct ReadySample {
    var epoch: Int
    var position: Int
    var key: String
    var caption: String
    var image: PixelBuffer
    /// Token ids, not padded.
    var tokenIDs: [Int]
    /// One hard negative of the caption, tokenised like it (``LoaderConfiguration/hardNegatives``); nil when off
    /// or the caption has none.
    var hardNegativeIDs: [Int]? = nil
    /// Hard negatives of the caption that could not be tokenised (counted; the sample is used without one).
    var unusableHardNegatives = 0
}

/// What the assembler finds under a ticket, in plan order.
enum Outcome {
    case sample(ReadySample)
    /// A bad sample: why, its key, and the error behind it when there is one.
    case skipped(SkipReason, key: String, detail: String?)
    /// The epoch's plan ended after `positions` positions, of which `fastForwarded` were skipped to resume.
    case epochEnd(epoch: Int, positions: Int, fastForwarded: Int)
    case finished
}

/// A raw sample handed to a worker.
struct WorkItem {
    var ticket: Int
    var epoch: Int
    var position: Int
    var sample: Sample
}

/// What the consumer finds in the ready queue.
enum ReadyEntry {
    case batch(Batch)
    case finished
    case failed(any Error)
}

/// A first-in first-out queue: amortised O(1) append and removal at the front.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }
}

/// The loader's threads and the state they share.
///
/// - The reader thread walks the deterministic plan (``PlanReader``), numbers every sample with a ticket and hands it
///   to the workers, never more than `window` tickets ahead of the assembler (back-pressure).
/// - Worker threads decode, augment and tokenise in any order and file the outcome under its ticket.
/// - The assembler thread takes outcomes strictly in ticket order, so the batches do not depend on timing, builds
///   batches and puts them in the ready queue of `queueDepth` batches, waiting while it is full.
///
/// Every shared field is guarded by `condition`; any change is broadcast (there are only a few threads).
final class LoaderPipeline: @unchecked Sendable {
    let configuration: LoaderConfiguration
    let decoder: any SampleDecoder
    let tokenizer: any CaptionTokenizer
    let start: LoaderCursor
    let window: Int
    let pixelCount: Int

    private let condition = NSCondition()
    private var stopped = false
    private var readerDone = false
    private var work = FIFO<WorkItem>()
    private var outcomes: [Int: Outcome] = [:]
    private var consumed = 0
    private var ready = FIFO<ReadyEntry>()
    private var terminal: ReadyEntry? = nil
    private var pool: [PixelBuffer] = []
    /// Image memory of whole batches, reused once the consumer has released a batch.
    let batchMemory: BatchMemoryPool
    private var stats = LoaderStatistics()
    private(set) var runningThreads = 0

    init(configuration: LoaderConfiguration, decoder: any SampleDecoder, tokenizer: any CaptionTokenizer, start: LoaderCursor) {
        self.configuration = configuration
        self.decoder = decoder
        self.tokenizer = tokenizer
        self.start = start
        // About a batch of slack: a worker that the scheduler parks while holding the next sample in plan order
        // does not stop the others until they are that far ahead (on a busy 2-core machine this happens often).
        window = min(256, max(64, configuration.batchSize + 8 * configuration.workerThreads))
        pixelCount = 3 * configuration.imageSize * configuration.imageSize
        batchMemory = BatchMemoryPool(
            floats: configuration.batchSize * pixelCount, keep: configuration.queueDepth + 2)
    }

    /// Starts the reader, the workers and the assembler.
    func launch() {
        enum Role { case reader, worker, assembler }
        let roles: [(String, Role)] =
            [("brivl-loader-reader", .reader)]
            + (0..<configuration.workerThreads).map { ("brivl-loader-worker-\($0)", .worker) }
            + [("brivl-loader-assembler", .assembler)]
        condition.lock()
        runningThreads = roles.count
        condition.unlock()
        for (name, role) in roles {
            let thread = Thread { [self] in
                lowerPriority()
                switch role {
                case .reader: runReader()
                case .worker: runWorker()
                case .assembler: runAssembler()
                }
                condition.lock()
                runningThreads -= 1
                condition.broadcast()
                condition.unlock()
            }
            thread.name = name
            thread.start()
        }
    }

    /// Raises the calling thread's nice value by ``LoaderConfiguration/threadNice`` (on Linux `setpriority` with
    /// `who` 0 changes only the calling thread).
    private func lowerPriority() {
        #if os(Linux)
        guard configuration.threadNice > 0 else { return }
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let current = getpriority(which, 0)
        guard errno == 0 else { return }
        _ = setpriority(which, 0, min(19, current + Int32(configuration.threadNice)))
        #endif
    }

    /// Stops every thread and waits (up to `timeout` seconds) until they have returned. Returns whether they did.
    @discardableResult
    func stop(timeout: Double = 30) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        work.removeAll()
        outcomes.removeAll()
        ready.removeAll()
        condition.broadcast()
        while runningThreads > 0 {
            if !condition.wait(until: deadline) { return runningThreads == 0 }
        }
        return true
    }

    var threadsRunning: Int {
        condition.lock()
        defer { condition.unlock() }
        return runningThreads
    }

    var statistics: LoaderStatistics {
        condition.lock()
        defer { condition.unlock() }
        return stats
    }

    // MARK: - Consumer

    /// The next ready entry, waiting for it; nil once stopped.
    func nextEntry() -> ReadyEntry? {
        condition.lock()
        defer { condition.unlock() }
        if let terminal { return terminal }
        var waited: ContinuousClock.Instant? = nil
        while ready.isEmpty && !stopped {
            if waited == nil { waited = .now }
            condition.wait()
        }
        if let waited { stats.consumerWaitSeconds += Self.seconds(since: waited) }
        guard let entry = ready.popFirst() else { return nil }
        switch entry {
        case .batch: condition.broadcast()
        case .finished, .failed: terminal = entry
        }
        return entry
    }

    // MARK: - Reader

    private func runReader() {
        let paths = configuration.shards
        var epoch = start.epoch
        var resumeAt = start.position
        var events = ShardEvents()
        events.opened = { [self] _ in locked { stats.shardsOpened += 1 } }
        events.failed = { [self] failure in locked { stats.shardFailures.append(failure) } }
        events.ignoredMembers = { [self] count in locked { stats.membersIgnored += count } }
        events.cancelled = { [self] in locked { stopped } }
        var ticket = 0
        while true {
            if let limit = configuration.epochs, epoch >= limit { break }
            var reader = PlanReader(plan: EpochPlan(configuration: configuration, epoch: epoch), paths: paths, events: events)
            var position = 0
            var fastForwarded = 0
            while let sample = reader.next() {
                if position < resumeAt {
                    position += 1
                    fastForwarded += 1
                    locked { stats.samplesFastForwarded += 1 }
                    continue
                }
                guard issue(ticket: ticket, .work(WorkItem(ticket: ticket, epoch: epoch, position: position, sample: sample)))
                else { return }
                ticket += 1
                position += 1
            }
            guard issue(ticket: ticket, .outcome(.epochEnd(epoch: epoch, positions: position, fastForwarded: fastForwarded)))
            else { return }
            ticket += 1
            resumeAt = 0
            epoch += 1
        }
        _ = issue(ticket: ticket, .outcome(.finished))
        locked { readerDone = true; condition.broadcast() }
    }

    private enum Issue {
        case work(WorkItem)
        case outcome(Outcome)
    }

    /// Waits until the ticket is within the window of the assembler, then queues it. False once stopped.
    private func issue(ticket: Int, _ issue: Issue) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if ticket - consumed >= window && !stopped {
            let waitStart = ContinuousClock.now
            while ticket - consumed >= window && !stopped { condition.wait() }
            stats.readerBlockedSeconds += Self.seconds(since: waitStart)
        }
        if stopped { return false }
        switch issue {
        case .work(let item): work.append(item)
        case .outcome(let outcome): outcomes[ticket] = outcome
        }
        condition.broadcast()
        return true
    }

    // MARK: - Workers

    private func runWorker() {
        while true {
            condition.lock()
            let waitStart = ContinuousClock.now
            while work.isEmpty && !stopped && !readerDone { condition.wait() }
            stats.workerIdleSeconds += Self.seconds(since: waitStart)
            guard !stopped, let item = work.popFirst() else {
                condition.unlock()
                return
            }
            let buffer = pool.popLast() ?? PixelBuffer(count: pixelCount)
            condition.unlock()

            let workStart = ContinuousClock.now
            let outcome = process(item, into: buffer)
            let busy = Self.seconds(since: workStart)

            condition.lock()
            stats.workerBusySeconds += busy
            if case .skipped = outcome { pool.append(buffer) }
            if !stopped { outcomes[item.ticket] = outcome }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Decodes, augments and tokenises one sample. Cheap checks come first so bad captions cost no decoding.
    private func process(_ item: WorkItem, into buffer: PixelBuffer) -> Outcome {
        let sample = item.sample
        guard let image = sample.image else { return .skipped(.missingImage, key: sample.key, detail: nil) }
        let record: PairRecord
        switch CaptionReader.record(of: sample) {
        case .success(let read): record = read
        case .failure(.missing): return .skipped(.missingCaption, key: sample.key, detail: nil)
        case .failure(.invalidUTF8): return .skipped(.invalidUTF8, key: sample.key, detail: nil)
        case .failure(let problem): return .skipped(.invalidCaption, key: sample.key, detail: problem.description)
        }
        let texts = record.captions
        guard !texts.isEmpty else { return .skipped(.emptyCaption, key: sample.key, detail: nil) }

        let seed = configuration.seed
        let rank = configuration.rank
        var captionRandom = LoaderRandom(seed: seed, stream: .sample, item.epoch, rank, item.position, 0)
        let caption = configuration.caption == .first ? texts[0] : texts[captionRandom.below(texts.count)]
        var ids: [Int]
        do {
            ids = try tokenizer.tokenIDs(for: caption, maxLength: configuration.maxTextLength)
        } catch {
            return .skipped(.tokenizationFailed, key: sample.key, detail: "\(error)")
        }
        guard !ids.isEmpty else { return .skipped(.tokenizationFailed, key: sample.key, detail: "no tokens") }
        if ids.count > configuration.maxTextLength { ids.removeLast(ids.count - configuration.maxTextLength) }
        // Drawn after the caption, from the same stream: the caption choice is the same with hard negatives on or off.
        var hardNegativeIDs: [Int]? = nil
        var unusableHardNegatives = 0
        if configuration.hardNegatives {
            let foils = record.hardNegatives(of: caption)
            if !foils.isEmpty {
                let foil = foils[captionRandom.below(foils.count)]
                if let foilIDs = try? tokenizer.tokenIDs(for: foil, maxLength: configuration.maxTextLength),
                    !foilIDs.isEmpty
                {
                    hardNegativeIDs = Array(foilIDs.prefix(configuration.maxTextLength))
                } else {
                    unusableHardNegatives = 1
                }
            }
        }

        var imageRandom = LoaderRandom(seed: seed, stream: .sample, item.epoch, rank, item.position, 1)
        do {
            try decoder.decode(
                image.data, fileExtension: image.extension, size: configuration.imageSize, random: &imageRandom,
                into: buffer.pixels)
        } catch {
            return .skipped(.undecodableImage, key: sample.key, detail: "\(error)")
        }
        return .sample(
            ReadySample(epoch: item.epoch, position: item.position, key: sample.key, caption: caption, image: buffer,
                        tokenIDs: ids, hardNegativeIDs: hardNegativeIDs, unusableHardNegatives: unusableHardNegatives))
    }

    // MARK: - Assembler

    /// One batch being filled, sample by sample, in plan order.
    private struct BatchBuilder {
        let memory: UnsafeMutablePointer<Float>
        var count = 0
        var keys: [String] = []
        var captions: [String] = []
        var tokenIDs: [Int64]
        var mask: [Int64]
        /// Hard negatives, padded to the caption length, and the row of the sample each belongs to.
        var hardNegativeIDs: [Int64] = []
        var hardNegativeMask: [Int64] = []
        var hardNegativeOwners: [Int] = []
        var last: (epoch: Int, position: Int) = (0, 0)
        let paddingID: Int64

        init(memory: UnsafeMutablePointer<Float>, batchSize: Int, length: Int, paddingID: Int) {
            self.memory = memory
            self.paddingID = Int64(paddingID)
            tokenIDs = [Int64](repeating: Int64(paddingID), count: batchSize * length)
            mask = [Int64](repeating: 0, count: batchSize * length)
            keys.reserveCapacity(batchSize)
            captions.reserveCapacity(batchSize)
        }

        /// Copies the sample in (outside the lock: this is the assembler's only per-pixel work).
        mutating func add(_ sample: ReadySample, pixelCount: Int, length: Int) {
            (memory + count * pixelCount).update(from: sample.image.pixels.baseAddress!, count: pixelCount)
            for (column, id) in sample.tokenIDs.prefix(length).enumerated() {
                tokenIDs[count * length + column] = Int64(id)
                mask[count * length + column] = 1
            }
            if let foil = sample.hardNegativeIDs {
                for column in 0..<length {
                    let present = column < foil.count
                    hardNegativeIDs.append(present ? Int64(foil[column]) : paddingID)
                    hardNegativeMask.append(present ? 1 : 0)
                }
                hardNegativeOwners.append(count)
            }
            keys.append(sample.key)
            captions.append(sample.caption)
            last = (sample.epoch, sample.position)
            count += 1
        }
    }

    private func runAssembler() {
        let batchSize = configuration.batchSize
        let length = configuration.maxTextLength
        var builder: BatchBuilder? = nil
        var spent: [PixelBuffer] = []
        var samplesYielded = start.samplesYielded
        var batchesYielded = start.batchesYielded
        var epochYielded = 0
        var assembly = 0.0
        defer { if let builder { batchMemory.give(builder.memory) } }

        /// Turns the builder into a batch and queues it, waiting while the ready queue is full; false once stopped.
        func emit(cursorEpoch: Int, cursorPosition: Int) -> Bool {
            guard let filled = builder else { return true }
            builder = nil
            samplesYielded += filled.count
            batchesYielded += 1
            let cursor = LoaderCursor(
                epoch: cursorEpoch, position: cursorPosition, samplesYielded: samplesYielded,
                batchesYielded: batchesYielded, planFingerprint: start.planFingerprint)
            let entry: ReadyEntry
            let buildStart = ContinuousClock.now
            do {
                entry = .batch(try makeBatch(filled, cursor: cursor))
            } catch {
                entry = .failed(error)
            }
            assembly += Self.seconds(since: buildStart)
            condition.lock()
            defer { condition.unlock() }
            while ready.count >= configuration.queueDepth && !stopped { condition.wait() }
            if stopped { return false }
            ready.append(entry)
            if case .batch = entry {
                stats.samplesYielded += filled.count
                stats.batchesYielded += 1
                stats.hardNegativesYielded += filled.hardNegativeOwners.count
            }
            condition.broadcast()
            if case .failed = entry { return false }
            return true
        }

        func dropPartialBatch() {
            guard let partial = builder else { return }
            builder = nil
            batchMemory.give(partial.memory)
            locked { stats.samplesDropped += partial.count }
        }

        func fail(_ error: any Error) {
            locked {
                if !stopped { ready.append(.failed(error)) }
                condition.broadcast()
            }
        }

        while true {
            guard let outcome = nextOutcome(returning: &spent, assemblySeconds: &assembly) else { return }
            switch outcome {
            case .sample(let sample):
                if builder == nil {
                    builder = BatchBuilder(
                        memory: batchMemory.take(), batchSize: batchSize, length: length, paddingID: tokenizer.paddingID)
                }
                let copyStart = ContinuousClock.now
                builder?.add(sample, pixelCount: pixelCount, length: length)
                assembly += Self.seconds(since: copyStart)
                spent.append(sample.image)
                epochYielded += 1
                if builder?.count == batchSize {
                    guard emit(cursorEpoch: sample.epoch, cursorPosition: sample.position + 1) else { return }
                }
            case .skipped:
                break
            case .epochEnd(let epoch, let positions, let fastForwarded):
                if let problem = emptinessProblem(
                    epoch: epoch, positions: positions, fastForwarded: fastForwarded, yielded: epochYielded)
                {
                    fail(DataError.noUsableSamples(problem))
                    return
                }
                epochYielded = 0
                if configuration.mode == .epoch && builder != nil {
                    if configuration.dropLast {
                        dropPartialBatch()
                    } else {
                        guard emit(cursorEpoch: epoch + 1, cursorPosition: 0) else { return }
                    }
                }
            case .finished:
                if let partial = builder {
                    if configuration.dropLast {
                        dropPartialBatch()
                    } else {
                        guard emit(cursorEpoch: partial.last.epoch, cursorPosition: partial.last.position + 1) else {
                            return
                        }
                    }
                }
                locked {
                    if !stopped { ready.append(.finished) }
                    condition.broadcast()
                }
                return
            }
        }
    }

    /// The next outcome in read order, waiting for the workers to deliver it, with its statistics counted; nil once
    /// the loader stopped. Hands the pixel buffers of consumed samples back to the pool and adds the assembly time
    /// measured since the last call (both under the lock, which this takes once).
    private func nextOutcome(returning spent: inout [PixelBuffer], assemblySeconds: inout Double) -> Outcome? {
        condition.lock()
        defer { condition.unlock() }
        pool.append(contentsOf: spent)
        spent.removeAll(keepingCapacity: true)
        stats.assemblySeconds += assemblySeconds
        assemblySeconds = 0
        if outcomes[consumed] == nil && !stopped {
            let waitStart = ContinuousClock.now
            while outcomes[consumed] == nil && !stopped { condition.wait() }
            stats.assemblerWaitSeconds += Self.seconds(since: waitStart)
        }
        guard !stopped, let outcome = outcomes.removeValue(forKey: consumed) else { return nil }
        consumed += 1
        switch outcome {
        case .sample(let sample):
            stats.samplesRead += 1
            stats.hardNegativesUnusable += sample.unusableHardNegatives
        case .skipped(let reason, let key, let detail):
            stats.samplesRead += 1
            stats.skipped[reason, default: 0] += 1
            if stats.firstSkipped[reason] == nil {
                stats.firstSkipped[reason] = SkippedSample(key: key, detail: detail)
            }
        case .epochEnd, .finished: break
        }
        condition.broadcast()
        return outcome
    }

    /// Why an epoch that yields nothing usable would make the loader spin or end silently, or nil when it is fine.
    private func emptinessProblem(epoch: Int, positions: Int, fastForwarded: Int, yielded: Int) -> String? {
        let rank = configuration.rank
        if positions == 0 {
            return "rank \(rank) read no sample in epoch \(epoch) from its \(configuration.shards.count) shards "
                + "(see the loader statistics' shard failures)"
        }
        guard fastForwarded == 0 else { return nil }
        if yielded == 0 {
            let reasons = locked { stats }.skippedSummary
            return "rank \(rank) found no usable sample among the \(positions) of epoch \(epoch) (skipped so far: \(reasons))"
        }
        if configuration.mode == .epoch && configuration.dropLast && configuration.epochs == nil
            && yielded < configuration.batchSize
        {
            return "rank \(rank) has \(yielded) usable samples per epoch, fewer than one batch of "
                + "\(configuration.batchSize) with drop_last: the loader would never yield a batch"
        }
        return nil
    }

    /// Wraps a filled builder's memory and token arrays as the batch tensors; the image memory goes back to
    /// ``batchMemory`` when the engine releases the tensor.
    private func makeBatch(_ filled: BatchBuilder, cursor: LoaderCursor) throws -> Batch {
        let count = filled.count
        let length = configuration.maxTextLength
        let size = configuration.imageSize
        let address = UInt(bitPattern: filled.memory)
        let memory = batchMemory
        let images: Tensor
        do {
            images = try Tensor(
                wrapping: UnsafeMutableRawPointer(filled.memory), shape: [count, 3, size, size], dtype: .float32,
                deallocate: { memory.give(UnsafeMutablePointer<Float>(bitPattern: address)!) })
        } catch {
            memory.give(filled.memory)
            throw error
        }
        let used = count * length
        let foils = filled.hardNegativeOwners.count
        let hardNegatives =
            foils == 0
            ? nil
            : HardNegativeBatch(
                tokenIDs: try Tensor(filled.hardNegativeIDs, shape: [foils, length]),
                attentionMask: try Tensor(filled.hardNegativeMask, shape: [foils, length]),
                owners: filled.hardNegativeOwners)
        return Batch(
            images: images, tokenIDs: try Tensor(Array(filled.tokenIDs.prefix(used)), shape: [count, length]),
            attentionMask: try Tensor(Array(filled.mask.prefix(used)), shape: [count, length]), keys: filled.keys,
            captions: filled.captions, hardNegatives: hardNegatives, cursor: cursor)
    }

    // MARK: - Helpers

    @discardableResult
    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, attoseconds) = (ContinuousClock.now - start).components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
