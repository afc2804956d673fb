import BriVLData
import Foundation

/// The `loader` workload of ``DataBenchmark``: the training loader end to end on JPEG shards.
extension DataBenchmark {
    static let loaderWorkloadDescription = (
        name: "loader",
        summary: "the training DataLoader end to end: 1000 JPEG samples (the photos re-encoded at ~500 px) in 4 shards "
            + "→ decode + random resized crop 224 + CLIP normalisation + tokenisation on 2 worker threads → batches "
            + "of 64; images/s taken as fast as possible, then the consumer's waiting share when each batch is "
            + "followed by a simulated training step of 1.25× the loader's time per batch; cpu_ratio = the process's CPU "
            + "time per image delivered over one thread's CPU time per image running only the decoder on the same "
            + "files (1 = the loader adds nothing around the decoding)"
    )

    /// The 1-minute load average (other work on the machine), to read the rates against; NaN where unknown.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
            let first = text.split(separator: " ").first, let value = Double(first)
        else { return .nan }
        return value
    }

    func loaderThroughput() throws -> BenchmarkRecord {
        let directory = configuration.imagesDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let photos = names.sorted().filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .map { "\(directory)/\($0)" }
        guard !photos.isEmpty else {
            throw BenchmarkError("no photos in \(directory): \(Self.preparationHint), or pass --images DIR")
        }
        let shardDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-bench-loader-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: shardDirectory) }
        let samples = 1000
        let shards = try LoaderThroughput.writeBenchmarkShards(photos: photos, into: shardDirectory, samples: samples)

        var loader = LoaderConfiguration(shards: shards)
        loader.batchSize = 64
        loader.imageSize = 224
        loader.workerThreads = 2
        loader.queueDepth = 2
        loader.maxTextLength = 32
        loader.seed = 0
        loader.epochs = nil
        let decoder = try ImagingSampleDecoder.training(size: 224)
        let tokenizer = UTF8ByteTokenizer()
        // The reference: one thread decoding the same files with the same decoder, nothing else.
        let reader = try ShardReader(path: shards[0])
        let files = reader.prefix(80).compactMap { $0.image }.map { (data: $0.data, fileExtension: $0.extension) }
        let reference = try LoaderThroughput.decodeCost(
            decoder: decoder, images: files, size: loader.imageSize, rounds: configuration.rounds)
        let free = try LoaderThroughput.measure(
            configuration: loader, decoder: decoder, tokenizer: tokenizer, rounds: configuration.rounds, batchesPerRound: 4)
        let step = 1.25 * Double(loader.batchSize) / free.imagesPerSecond
        let paced = try LoaderThroughput.measure(
            configuration: loader, decoder: decoder, tokenizer: tokenizer, rounds: 2, batchesPerRound: 4,
            stepSeconds: step)
        return BenchmarkRecord([
            ("bench", "data"), ("name", "loader"), ("images_per_s", .number(free.imagesPerSecond)),
            ("cpu_ms_per_image", .number(free.cpuSecondsPerImage * 1e3)),
            ("decode_only_cpu_ms_per_image", .number(reference.cpuSecondsPerImage * 1e3)),
            ("cpu_ratio", .number(free.cpuSecondsPerImage / reference.cpuSecondsPerImage)),
            ("decode_only_images_per_s", .number(reference.imagesPerSecond)),
            ("ms_per_batch", .number(Double(loader.batchSize) / free.imagesPerSecond * 1e3)),
            ("worker_busy_fraction", .number(free.workerBusyFraction)),
            ("consumer_wait_fraction", .number(free.consumerWaitFraction)),
            ("reader_blocked_s", .number(free.statistics.readerBlockedSeconds)),
            ("assembler_wait_s", .number(free.statistics.assemblerWaitSeconds)),
            ("assembly_ms_per_batch", .number(free.statistics.assemblySeconds * 1e3 / Double(max(1, free.statistics.batchesYielded)))),
            ("paced_step_ms", .number(step * 1e3)),
            ("paced_consumer_wait_fraction", .number(paced.consumerWaitFraction)),
            ("paced_images_per_s", .number(paced.imagesPerSecond)),
            ("batch", .integer(loader.batchSize)), ("image_size", .integer(loader.imageSize)),
            ("workers", .integer(loader.workerThreads)), ("samples", .integer(samples)), ("shards", .integer(shards.count)),
            ("photos", .integer(photos.count)), ("skipped", .integer(free.statistics.samplesSkipped)),
            ("cores", .integer(ProcessInfo.processInfo.activeProcessorCount)),
            ("load_average_1m", .number(Self.loadAverage())),
        ])
    }
}
