import Foundation

/// Everything that decides what a ``DataLoader`` yields and how hard it works for it. Stored as JSON with snake_case
/// keys next to a run; keys left out take the defaults below.
///
/// Only the fields of ``planFingerprint`` decide the order of samples; worker threads, queue depth and batch size
/// can change between a checkpoint and its resumption.
public struct LoaderConfiguration: Codable, Sendable, Equatable {
    /// How shards are scheduled.
    public enum Mode: String, Codable, Sendable {
        /// Every shard once per epoch, in an order shuffled per epoch from the seed; the loader stops after
        /// ``epochs`` epochs (never when nil). A partial batch ends each epoch (or is dropped, see ``dropLast``).
        case epoch
        /// Shards drawn with replacement, forever (or for ``epochs`` nominal epochs). A nominal epoch draws
        /// ``resampledShardsPerEpoch`` shards; batches run across its boundaries. Each rank draws its own shards.
        case resampled
    }

    /// How ranks divide an epoch between them (epoch mode).
    public enum RankSplit: String, Codable, Sendable {
        /// Rank r reads the shards at positions r, r+W, r+2W, … of the epoch's shard order: no shard is read twice,
        /// but ranks see as many samples as their shards hold. Needs at least as many shards as ranks.
        case shards
        /// Every rank reads every shard and keeps the samples at positions r, r+W, … of the epoch's read order:
        /// ranks differ by at most one sample, at the price of reading the data W times.
        case samples
    }

    /// Which caption a sample with several captions contributes.
    public enum CaptionChoice: String, Codable, Sendable {
        /// One drawn per sample and epoch from the sample's random stream.
        case random
        case first
    }

    /// Paths of the WebDataset tar shards (see ``discoverShards(in:)``). Their order matters: it is the base of the
    /// seeded shard order, and part of the plan fingerprint.
    public var shards: [String]
    public var batchSize: Int = 64
    /// Whether the partial batch at the end of an epoch is dropped (epoch mode).
    public var dropLast: Bool = true
    /// Whether shard order and samples are shuffled. Off, the loader reads shards in the listed order.
    public var shuffle: Bool = true
    /// Samples held by the shuffle buffer; 1 or less reads shards in order (after the shard shuffle).
    public var shuffleBufferSize: Int = 1000
    public var seed: UInt64 = 0
    /// Threads that decode, augment and tokenise.
    public var workerThreads: Int = 2
    /// Ready batches kept ahead of the consumer.
    public var queueDepth: Int = 2
    /// Added to the nice value of the loader's threads (Linux: per thread). With training on the same CPU cores,
    /// e.g. 5 lets the compute threads win the cores while the loader refills its queue in their slack.
    public var threadNice: Int = 0
    public var rank: Int = 0
    public var worldSize: Int = 1
    public var rankSplit: RankSplit = .shards
    public var mode: Mode = .epoch
    /// Epochs after which ``DataLoader/next()`` returns nil; nil runs forever.
    public var epochs: Int? = nil
    /// Shards a nominal epoch draws in resampled mode; nil: ⌈shards / world size⌉.
    public var resampledShardsPerEpoch: Int? = nil
    /// Side of the square images, in pixels.
    public var imageSize: Int = 224
    /// Tokens per caption, special tokens included; shorter captions are padded.
    public var maxTextLength: Int = 64
    public var caption: CaptionChoice = .random
    /// Whether each sample also brings one of its caption's hard negatives (``PairRecord/hardNegatives``), drawn
    /// from the sample's own random stream after the caption (``Batch/hardNegatives``).
    public var hardNegatives: Bool = false

    public init(shards: [String]) {
        self.shards = shards
    }

    enum CodingKeys: String, CodingKey {
        case shards
        case batchSize = "batch_size"
        case dropLast = "drop_last"
        case shuffle
        case shuffleBufferSize = "shuffle_buffer_size"
        case seed
        case workerThreads = "worker_threads"
        case queueDepth = "queue_depth"
        case threadNice = "thread_nice"
        case rank
        case worldSize = "world_size"
        case rankSplit = "rank_split"
        case mode
        case epochs
        case resampledShardsPerEpoch = "resampled_shards_per_epoch"
        case imageSize = "image_size"
        case maxTextLength = "max_text_length"
        case caption
        case hardNegatives = "hard_negatives"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        shards = try container.decode([String].self, forKey: .shards)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        batchSize = try value(.batchSize, batchSize)
        dropLast = try value(.dropLast, dropLast)
        shuffle = try value(.shuffle, shuffle)
        shuffleBufferSize = try value(.shuffleBufferSize, shuffleBufferSize)
        seed = try value(.seed, seed)
        workerThreads = try value(.workerThreads, workerThreads)
        queueDepth = try value(.queueDepth, queueDepth)
        threadNice = try value(.threadNice, threadNice)
        rank = try value(.rank, rank)
        worldSize = try value(.worldSize, worldSize)
        rankSplit = try value(.rankSplit, rankSplit)
        mode = try value(.mode, mode)
        epochs = try container.decodeIfPresent(Int.self, forKey: .epochs)
        resampledShardsPerEpoch = try container.decodeIfPresent(Int.self, forKey: .resampledShardsPerEpoch)
        imageSize = try value(.imageSize, imageSize)
        maxTextLength = try value(.maxTextLength, maxTextLength)
        caption = try value(.caption, caption)
        hardNegatives = try value(.hardNegatives, hardNegatives)
    }

    /// Throws `DataError.invalidConfiguration` naming the first bad field.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw DataError.invalidConfiguration(message()) }
        }
        try require(!shards.isEmpty, "the loader needs at least one shard")
        try require(batchSize >= 1, "batch_size must be at least 1, got \(batchSize)")
        try require(workerThreads >= 1, "worker_threads must be at least 1, got \(workerThreads)")
        try require(queueDepth >= 1, "queue_depth must be at least 1, got \(queueDepth)")
        try require((0...19).contains(threadNice), "thread_nice must be in 0...19, got \(threadNice)")
        try require(shuffleBufferSize >= 0, "shuffle_buffer_size must not be negative, got \(shuffleBufferSize)")
        try require(worldSize >= 1, "world_size must be at least 1, got \(worldSize)")
        try require((0..<worldSize).contains(rank), "rank \(rank) is outside world size \(worldSize)")
        try require(imageSize >= 1, "image_size must be at least 1, got \(imageSize)")
        try require(maxTextLength >= 2, "max_text_length must leave room for [CLS] and [SEP], got \(maxTextLength)")
        if let epochs { try require(epochs >= 1, "epochs must be at least 1 when given, got \(epochs)") }
        if let count = resampledShardsPerEpoch {
            try require(count >= 1, "resampled_shards_per_epoch must be at least 1 when given, got \(count)")
        }
        if mode == .epoch && rankSplit == .shards {
            try require(
                shards.count >= worldSize,
                "\(shards.count) shards cannot be split between \(worldSize) ranks; use rank_split \"samples\" or more shards")
        }
    }

    /// Shards in a nominal epoch of resampled mode.
    var shardsPerResampledEpoch: Int {
        resampledShardsPerEpoch ?? (shards.count + worldSize - 1) / worldSize
    }

    /// Identifies everything that decides which sample comes at which position, so a cursor is only resumed under
    /// the plan it was taken from.
    public var planFingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        add("brivl-loader-plan-1")
        for path in shards { add((path as NSString).lastPathComponent) }
        add(mode.rawValue)
        add(rankSplit.rawValue)
        add(String(seed))
        add(String(shuffle))
        add(String(shuffle ? shuffleBufferSize : 0))
        add(String(rank))
        add(String(worldSize))
        if mode == .resampled { add(String(shardsPerResampledEpoch)) }
        return String(hash, radix: 16)
    }

    /// The shard paths of a directory as ``ShardIndex/discover(in:)`` finds them.
    public static func discoverShards(in directory: String) throws -> [String] {
        try ShardIndex.discover(in: directory).paths
    }
}
