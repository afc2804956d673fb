import Foundation

/// Counts and distributions over a directory of shards, for `brivl data inspect`.
public struct DatasetSummary: Codable, Sendable {
    /// A histogram over power-of-two buckets: bucket `b` counts values in [2^b, 2^(b+1)) (bucket 0 also holds 0).
    public struct Histogram: Codable, Sendable, Equatable {
        public var buckets: [Int: Int] = [:]
        public var count = 0
        public var minimum: Int?
        public var maximum: Int?
        public var sum = 0

        public mutating func add(_ value: Int) {
            let bucket = value <= 1 ? 0 : (Int.bitWidth - 1 - value.leadingZeroBitCount)
            buckets[bucket, default: 0] += 1
            count += 1
            sum += value
            minimum = Swift.min(minimum ?? value, value)
            maximum = Swift.max(maximum ?? value, value)
        }

        public var mean: Double { count == 0 ? 0 : Double(sum) / Double(count) }

        /// (lower bound, upper bound, count) rows in order.
        public var rows: [(lower: Int, upper: Int, count: Int)] {
            buckets.keys.sorted().map { bucket in
                (bucket == 0 ? 0 : 1 << bucket, (1 << (bucket + 1)) - 1, buckets[bucket]!)
            }
        }
    }

    public var shards = 0
    public var samples = 0
    /// Samples by the set of their file extensions, e.g. "jpg+json".
    public var layouts: [String: Int] = [:]
    public var samplesWithoutImage = 0
    public var samplesWithoutCaption = 0
    /// Shards that ended with an archive error, with the message.
    public var shardErrors: [String: String] = [:]
    public var imageBytes = Histogram()
    public var imageWidths = Histogram()
    public var imageHeights = Histogram()
    public var unreadableImageHeaders = 0
    public var captionsPerSample = Histogram()
    /// Caption length in characters.
    public var captionCharacters = Histogram()
    /// Captions containing at least one CJK ideograph.
    public var captionsWithChinese = 0
    public var captions = 0
    /// A seeded random selection of (key, caption).
    public var exampleCaptions: [[String]] = []

    public init() {}
}

/// Reads every sample of a shard directory once and summarises it.
public struct DatasetInspector {
    public var exampleCount: Int
    public var seed: UInt64
    /// Reads an image's width and height from its header (injected so this target does not decode images).
    public var imageSize: ((Data) -> (width: Int, height: Int)?)?

    public init(exampleCount: Int = 10, seed: UInt64 = 0, imageSize: ((Data) -> (width: Int, height: Int)?)? = nil) {
        self.exampleCount = exampleCount
        self.seed = seed
        self.imageSize = imageSize
    }

    public func inspect(directory: String, progress: (Int, Int) -> Void = { _, _ in }) throws -> DatasetSummary {
        let (_, paths) = try ShardIndex.discover(in: directory)
        var summary = DatasetSummary()
        summary.shards = paths.count
        var random = LoaderRandom(seed: seed)
        var seenCaptions = 0
        for (number, path) in paths.enumerated() {
            defer { progress(number + 1, paths.count) }
            let reader = try ShardReader(path: path)
            for sample in reader {
                summary.samples += 1
                summary.layouts[sample.files.keys.sorted().joined(separator: "+"), default: 0] += 1
                if let image = sample.image {
                    summary.imageBytes.add(image.data.count)
                    if let imageSize {
                        if let size = imageSize(image.data) {
                            summary.imageWidths.add(size.width)
                            summary.imageHeights.add(size.height)
                        } else {
                            summary.unreadableImageHeaders += 1
                        }
                    }
                } else {
                    summary.samplesWithoutImage += 1
                }
                guard let record = try? PairRecord.decode(from: sample) else {
                    summary.samplesWithoutCaption += 1
                    continue
                }
                summary.captionsPerSample.add(record.texts.count)
                for text in record.texts {
                    summary.captions += 1
                    summary.captionCharacters.add(text.count)
                    if text.unicodeScalars.contains(where: Self.isCJK) { summary.captionsWithChinese += 1 }
                    // Reservoir sampling keeps a uniform random selection in one pass.
                    seenCaptions += 1
                    if summary.exampleCaptions.count < exampleCount {
                        summary.exampleCaptions.append([sample.key, text])
                    } else {
                        let slot = random.below(seenCaptions)
                        if slot < exampleCount { summary.exampleCaptions[slot] = [sample.key, text] }
                    }
                }
            }
            if let error = reader.error { summary.shardErrors[(path as NSString).lastPathComponent] = "\(error)" }
        }
        return summary
    }

    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0xF900...0xFAFF: return true
        default: return false
        }
    }
}
