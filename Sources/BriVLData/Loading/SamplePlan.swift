import Foundation

/// The shards one rank reads in one epoch, in order, which of their samples it keeps, and how the shuffle buffer
/// draws: everything that decides the epoch's sample order, computed from the configuration and the epoch alone.
struct EpochPlan: Equatable {
    let epoch: Int
    /// Indices into ``LoaderConfiguration/shards``, in reading order (repeats possible in resampled mode).
    let shardIndices: [Int]
    /// Keeps the samples whose index in the read order is `remainder` modulo `modulus` (sample split).
    let modulus: Int
    let remainder: Int
    let bufferCapacity: Int
    let bufferSeed: LoaderRandom

    init(configuration: LoaderConfiguration, epoch: Int) {
        self.epoch = epoch
        let shardCount = configuration.shards.count
        let rank = configuration.rank
        let worldSize = configuration.worldSize
        switch configuration.mode {
        case .epoch:
            var order = Array(0..<shardCount)
            if configuration.shuffle {
                var random = LoaderRandom(seed: configuration.seed, stream: .shardOrder, epoch)
                random.shuffle(&order)
            }
            switch configuration.rankSplit {
            case .shards:
                shardIndices = order.enumerated().filter { $0.offset % worldSize == rank }.map(\.element)
                modulus = 1
                remainder = 0
            case .samples:
                shardIndices = order
                modulus = worldSize
                remainder = rank
            }
        case .resampled:
            var random = LoaderRandom(seed: configuration.seed, stream: .resample, epoch, rank)
            shardIndices = (0..<configuration.shardsPerResampledEpoch).map { _ in random.below(shardCount) }
            modulus = 1
            remainder = 0
        }
        bufferCapacity = configuration.shuffle ? configuration.shuffleBufferSize : 0
        bufferSeed = LoaderRandom(seed: configuration.seed, stream: .shuffleBuffer, epoch, rank)
    }
}

/// A shuffle buffer in the WebDataset manner: it fills up to its capacity, then every new sample evicts a random
/// one. At the end the rest leaves in random order. With a capacity of 1 or less samples pass straight through.
struct ShuffleBuffer<Element> {
    private var items: [Element] = []
    private let capacity: Int
    private var random: LoaderRandom

    init(capacity: Int, random: LoaderRandom) {
        self.capacity = capacity
        self.random = random
        items.reserveCapacity(max(0, min(capacity, 4096)))
    }

    /// Adds `element`; returns the sample that leaves, if any.
    mutating func push(_ element: Element) -> Element? {
        guard capacity > 1 else { return element }
        if items.count < capacity {
            items.append(element)
            return nil
        }
        let index = random.below(capacity)
        let leaving = items[index]
        items[index] = element
        return leaving
    }

    /// The next sample once the input has ended; nil when empty.
    mutating func drain() -> Element? {
        guard !items.isEmpty else { return nil }
        let index = random.below(items.count)
        items.swapAt(index, items.count - 1)
        return items.removeLast()
    }
}

/// Things the plan reader reports about the shards while it reads them, and how it learns to stop early.
struct ShardEvents {
    var opened: (_ path: String) -> Void = { _ in }
    var failed: (_ failure: ShardFailure) -> Void = { _ in }
    var ignoredMembers: (_ count: Int) -> Void = { _ in }
    /// Asked before each sample is read: true ends the reading (the loader is closing), so that filling a large
    /// shuffle buffer does not delay shutdown.
    var cancelled: () -> Bool = { false }
}

/// Yields one epoch's samples for one rank in plan order: the planned shards read one after another, the rank's
/// samples kept, through the seeded shuffle buffer. A shard that cannot be opened or ends in an error contributes
/// the samples before the error and is reported; reading goes on with the next shard.
struct PlanReader {
    let plan: EpochPlan
    let paths: [String]
    let events: ShardEvents
    private var nextShard = 0
    private var reader: ShardReader? = nil
    private var readIndex = 0
    private var buffer: ShuffleBuffer<Sample>
    private var inputEnded = false

    init(plan: EpochPlan, paths: [String], events: ShardEvents) {
        self.plan = plan
        self.paths = paths
        self.events = events
        buffer = ShuffleBuffer(capacity: plan.bufferCapacity, random: plan.bufferSeed)
    }

    mutating func next() -> Sample? {
        while !inputEnded {
            guard let sample = nextKept() else {
                inputEnded = true
                break
            }
            if let leaving = buffer.push(sample) { return leaving }
        }
        return buffer.drain()
    }

    /// The next sample of the rank's share, in shard reading order.
    private mutating func nextKept() -> Sample? {
        while true {
            if events.cancelled() { return nil }
            if reader == nil {
                guard nextShard < plan.shardIndices.count else { return nil }
                let path = paths[plan.shardIndices[nextShard]]
                do {
                    reader = try ShardReader(path: path)
                    events.opened(path)
                } catch {
                    events.failed(ShardFailure(path: path, epoch: plan.epoch, message: "\(error)", samplesBefore: 0))
                    nextShard += 1
                    continue
                }
            }
            let shard = reader!
            if let sample = shard.next() {
                let index = readIndex
                readIndex += 1
                if index % plan.modulus == plan.remainder { return sample }
                continue
            }
            if let error = shard.error {
                events.failed(
                    ShardFailure(path: shard.path, epoch: plan.epoch, message: "\(error)", samplesBefore: shard.samplesRead))
            }
            if !shard.skippedMembers.isEmpty { events.ignoredMembers(shard.skippedMembers.count) }
            reader = nil
            nextShard += 1
        }
    }
}
