import BriVLData
import Foundation
import Imaging

/// Measures how fast a loader delivers batches, and whether its consumer ever waits on it.
public enum LoaderThroughput {
    public struct Report: Sendable {
        /// Median over the rounds of the images per second delivered to a consumer that takes batches at once.
        public var imagesPerSecond: Double
        public var roundImagesPerSecond: [Double]
        /// Share of the timed wall-clock the consumer spent blocked in `next()`.
        public var consumerWaitFraction: Double
        /// Mean share of the timed wall-clock the workers spent decoding, augmenting and tokenising (1 = always busy).
        public var workerBusyFraction: Double
        /// CPU time of the whole process (every loader thread and the consumer) per image delivered: unlike the
        /// rates, it hardly depends on what else the machine runs.
        public var cpuSecondsPerImage: Double
        public var statistics: LoaderStatistics
    }

    /// Pulls `warmup` batches untimed (threads start, the queue fills), then `rounds` timed rounds of
    /// `batchesPerRound` batches from one loader. The consumer sleeps `stepSeconds` after each batch, as a training
    /// step running elsewhere (a GPU) would: above the loader's time per batch, the consumer should never wait.
    public static func measure(
        configuration: LoaderConfiguration, decoder: any SampleDecoder, tokenizer: any CaptionTokenizer,
        rounds: Int = 5, batchesPerRound: Int = 8, warmup: Int = 2, stepSeconds: Double = 0
    ) throws -> Report {
        let loader = try DataLoader(configuration: configuration, decoder: decoder, tokenizer: tokenizer)
        defer { loader.close() }
        func take() throws -> Int {
            guard let batch = try loader.next() else {
                throw DataError.invalidConfiguration("the loader ended during the measurement; set epochs to nil")
            }
            if stepSeconds > 0 { Thread.sleep(forTimeInterval: stepSeconds) }
            return batch.count
        }
        for _ in 0..<warmup { _ = try take() }
        let before = loader.statistics
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID)
        var perRound: [Double] = []
        var images = 0
        for _ in 0..<rounds {
            let roundStart = clock.now
            var roundImages = 0
            for _ in 0..<batchesPerRound { roundImages += try take() }
            perRound.append(Double(roundImages) / seconds(clock.now - roundStart))
            images += roundImages
        }
        let cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpuStart
        let total = seconds(clock.now - start)
        let after = loader.statistics
        return Report(
            imagesPerSecond: perRound.sorted()[perRound.count / 2], roundImagesPerSecond: perRound,
            consumerWaitFraction: (after.consumerWaitSeconds - before.consumerWaitSeconds) / total,
            workerBusyFraction: (after.workerBusySeconds - before.workerBusySeconds)
                / (Double(configuration.workerThreads) * total),
            cpuSecondsPerImage: cpu / Double(max(1, images)), statistics: after)
    }

    /// What one thread decoding and augmenting `images` with `decoder` alone costs (no shards, captions, queues or
    /// batches): the reference a loader is compared with. Medians of `rounds` passes: images per second, and CPU
    /// seconds of the thread per image.
    public static func decodeCost(
        decoder: any SampleDecoder, images: [(data: Data, fileExtension: String)], size: Int, rounds: Int = 5
    ) throws -> (imagesPerSecond: Double, cpuSecondsPerImage: Double) {
        let pixels = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * size * size)
        defer { pixels.deallocate() }
        var random = LoaderRandom(seed: 0)
        let clock = ContinuousClock()
        var rates: [Double] = []
        var costs: [Double] = []
        for _ in 0..<max(1, rounds) {
            let start = clock.now
            let cpuStart = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
            for image in images {
                try decoder.decode(image.data, fileExtension: image.fileExtension, size: size, random: &random, into: pixels)
            }
            costs.append((cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpuStart) / Double(max(1, images.count)))
            rates.append(Double(images.count) / seconds(clock.now - start))
        }
        return (rates.sorted()[rates.count / 2], costs.sorted()[costs.count / 2])
    }

    /// Writes `samples` JPEG samples re-encoded from `photos` (any format Imaging decodes) with the longer side
    /// near `longerSide` pixels, cycling through the photos, with a caption each, into shards in `directory`.
    /// - Returns: the shard paths.
    public static func writeBenchmarkShards(
        photos: [String], into directory: String, samples: Int = 1000, samplesPerShard: Int = 250,
        longerSide: Int = 500, quality: Int = 90
    ) throws -> [String] {
        guard !photos.isEmpty else { throw DataError.invalidConfiguration("no photos to build benchmark shards from") }
        // A few sizes per photo, so repeats are not byte-identical files.
        var encoded: [[Data]] = []
        for path in photos {
            let image = try ImageDecoder.decode(contentsOf: path)
            encoded.append(try (0..<4).map { variant in
                try image.resized(to: image.size.scaledToLongerSide(longerSide - 12 * variant)).jpegData(quality: quality)
            })
        }
        let writer = try ShardWriter(.init(directory: directory, prefix: "bench", samplesPerShard: samplesPerShard))
        for index in 0..<samples {
            let photo = index % photos.count
            let name = ((photos[photo] as NSString).lastPathComponent as NSString).deletingPathExtension
            let record = PairRecord(texts: ["第\(index)张照片：\(name)", "a photo of \(name), number \(index)"])
            try writer.write(Sample(key: String(format: "%06d", index), files: [
                "jpg": encoded[photo][(index / photos.count) % 4], "json": try record.encoded(),
            ]))
        }
        return try writer.finish().shards.map { (directory as NSString).appendingPathComponent($0.name) }
    }

    private static func cpuSeconds(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
