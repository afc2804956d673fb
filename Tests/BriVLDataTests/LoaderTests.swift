import FileTestSupport
import Foundation
import Glibc
import Testing
import Torch

@testable import BriVLData

@Suite("Loader")
struct LoaderTests {
    // MARK: - Plan pieces

    @Test("the random generator is fixed: same seed, same draws; bounded draws stay in range and cover it")
    func randomGenerator() {
        var a = LoaderRandom(seed: 42)
        var b = LoaderRandom(seed: 42)
        #expect((0..<8).map { _ in a.next() } == (0..<8).map { _ in b.next() })
        // Pinned values: a change here changes every loader order ever saved in a cursor.
        var pinned = LoaderRandom(seed: 0)
        #expect(pinned.next() == 0xE220_A839_7B1D_CDAF)
        var random = LoaderRandom(seed: 7, stream: .sample, 1, 2, 3)
        var seen = Set<Int>()
        for _ in 0..<1000 {
            let value = random.below(10)
            #expect((0..<10).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 10)
        #expect(LoaderRandom(seed: 7, stream: .sample, 1, 2, 3) != LoaderRandom(seed: 7, stream: .sample, 1, 2, 4))
        #expect(LoaderRandom(seed: 7, stream: .sample, 1) != LoaderRandom(seed: 7, stream: .shardOrder, 1))
    }

    @Test("the shuffle buffer emits every element once, in a seeded order")
    func shuffleBuffer() {
        func run(capacity: Int, seed: UInt64) -> [Int] {
            var buffer = ShuffleBuffer<Int>(capacity: capacity, random: LoaderRandom(seed: seed))
            var out: [Int] = []
            for value in 0..<100 { if let leaving = buffer.push(value) { out.append(leaving) } }
            while let leaving = buffer.drain() { out.append(leaving) }
            return out
        }
        #expect(run(capacity: 10, seed: 1).sorted() == Array(0..<100))
        #expect(run(capacity: 10, seed: 1) == run(capacity: 10, seed: 1))
        #expect(run(capacity: 10, seed: 1) != run(capacity: 10, seed: 2))
        #expect(run(capacity: 10, seed: 1) != Array(0..<100))
        #expect(run(capacity: 1, seed: 1) == Array(0..<100))
        #expect(run(capacity: 1000, seed: 3).sorted() == Array(0..<100))
    }

    @Test("epoch plans split the shuffled shard order between ranks; resampled plans draw with replacement")
    func epochPlans() throws {
        var configuration = LoaderConfiguration(shards: (0..<10).map { "s\($0).tar" })
        configuration.worldSize = 3
        for epoch in 0..<3 {
            let plans = (0..<3).map { rank -> EpochPlan in
                var rankConfiguration = configuration
                rankConfiguration.rank = rank
                return EpochPlan(configuration: rankConfiguration, epoch: epoch)
            }
            #expect(plans.flatMap(\.shardIndices).sorted() == Array(0..<10))
        }
        #expect(EpochPlan(configuration: configuration, epoch: 0).shardIndices
            != EpochPlan(configuration: configuration, epoch: 1).shardIndices)
        configuration.mode = .resampled
        configuration.resampledShardsPerEpoch = 50
        let drawn = EpochPlan(configuration: configuration, epoch: 0).shardIndices
        #expect(drawn.count == 50)
        #expect(Set(drawn).count < 50)
        #expect(drawn.allSatisfy { (0..<10).contains($0) })
    }

    // MARK: - Configuration and cursor

    @Test("configuration JSON uses snake_case keys and fills defaults")
    func configurationCoding() throws {
        let json = """
            {"shards": ["a.tar", "b.tar"], "batch_size": 32, "drop_last": false, "shuffle_buffer_size": 500,
             "worker_threads": 3, "queue_depth": 4, "rank": 1, "world_size": 2, "mode": "resampled",
             "image_size": 112, "max_text_length": 32, "caption": "first", "seed": 9, "rank_split": "samples"}
            """
        let configuration = try JSONDecoder().decode(LoaderConfiguration.self, from: Data(json.utf8))
        #expect(configuration.batchSize == 32 && !configuration.dropLast && configuration.shuffleBufferSize == 500)
        #expect(configuration.workerThreads == 3 && configuration.queueDepth == 4)
        #expect(configuration.rank == 1 && configuration.worldSize == 2 && configuration.rankSplit == .samples)
        #expect(configuration.mode == .resampled && configuration.caption == .first && configuration.seed == 9)
        #expect(configuration.imageSize == 112 && configuration.maxTextLength == 32 && configuration.epochs == nil)
        let encoded = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        #expect(encoded.contains("\"batch_size\":32") && encoded.contains("\"worker_threads\":3"))
        #expect(try JSONDecoder().decode(LoaderConfiguration.self, from: Data(encoded.utf8)) == configuration)

        let minimal = try JSONDecoder().decode(LoaderConfiguration.self, from: Data(#"{"shards": ["x.tar"]}"#.utf8))
        #expect(minimal == LoaderConfiguration(shards: ["x.tar"]))
    }

    @Test("invalid configurations and foreign cursors are refused with a message")
    func validation() throws {
        func refuses(_ change: (inout LoaderConfiguration) -> Void) -> Bool {
            var configuration = LoaderConfiguration(shards: ["a.tar", "b.tar"])
            change(&configuration)
            do {
                try configuration.validate()
                return false
            } catch let error as DataError {
                if case .invalidConfiguration = error { return true }
                return false
            } catch {
                return false
            }
        }
        #expect(refuses { $0.shards = [] })
        #expect(refuses { $0.batchSize = 0 })
        #expect(refuses { $0.workerThreads = 0 })
        #expect(refuses { $0.queueDepth = 0 })
        #expect(refuses { $0.rank = 2; $0.worldSize = 2 })
        #expect(refuses { $0.worldSize = 3 })  // 2 shards, shard split
        #expect(!refuses { $0.worldSize = 3; $0.rankSplit = .samples })
        #expect(refuses { $0.maxTextLength = 1 })
        #expect(refuses { $0.epochs = 0 })

        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 10, perShard: 5)
            let configuration = loaderConfiguration(shards)
            var other = configuration
            other.seed = 99
            #expect {
                try makeLoader(other, cursor: .start(of: configuration))
            } throws: { error in
                if case DataError.cursorMismatch = error { return true }
                return false
            }
            // Execution settings are not part of the plan: a cursor survives changing them.
            var faster = configuration
            faster.workerThreads = 3
            faster.batchSize = 4
            faster.queueDepth = 5
            #expect(faster.planFingerprint == configuration.planFingerprint)
            _ = try makeLoader(faster, cursor: .start(of: configuration))
        }
    }

    // MARK: - Batches

    @Test("batches hold images, padded token ids and masks of the configured shapes")
    func batchContents() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 10, perShard: 4)
            var configuration = loaderConfiguration(shards, batchSize: 4)
            configuration.caption = .first
            let batches = try collectBatches(try makeLoader(configuration))
            #expect(batches.map(\.count) == [4, 4, 2])
            let batch = batches[0]
            #expect(batch.images.shape == [4, 3, 4, 4] && batch.images.dtype == .float32)
            #expect(batch.tokenIDs.shape == [4, 16] && batch.tokenIDs.dtype == .int64)
            #expect(batch.attentionMask.shape == [4, 16] && batch.attentionMask.dtype == .int64)
            let pixels = try batch.images.toArray(Float.self)
            let ids = try batch.tokenIDs.toArray(Int64.self)
            let mask = try batch.attentionMask.toArray(Int64.self)
            for (row, key) in batch.keys.enumerated() {
                let number = Int(key)!
                #expect(pixels[row * 48] == Float(number))
                #expect(batch.captions[row] == "caption \(number) first")
                let expected = try UTF8ByteTokenizer().tokenIDs(for: batch.captions[row], maxLength: 16)
                let rowIDs = Array(ids[(row * 16)..<(row * 16 + 16)])
                let rowMask = Array(mask[(row * 16)..<(row * 16 + 16)])
                #expect(rowIDs == (expected + Array(repeating: 0, count: 16 - expected.count)).map(Int64.init))
                #expect(rowMask == Array(repeating: 1, count: expected.count) + Array(repeating: 0, count: 16 - expected.count))
            }
        }
    }

    @Test("the same seed gives the same batches with 1 and 3 workers; another seed another order")
    func determinism() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 60, perShard: 7, bad: [5: .undecodable, 17: .noCaption])
            let configuration = loaderConfiguration(shards, workers: 1, epochs: 2)
            let single = try collectBatches(try makeLoader(configuration))
            var three = configuration
            three.workerThreads = 3
            three.queueDepth = 1
            // Slow samples make three workers finish out of order; the batches must not notice.
            let parallel = try collectBatches(try makeLoader(three, decoder: FakeDecoder(delay: 0.002)))
            try expectSameBatches(parallel, single)
            #expect(single.reduce(0) { $0 + $1.count } == 2 * 58)

            var reseeded = configuration
            reseeded.seed = 2
            let other = try collectBatches(try makeLoader(reseeded))
            #expect(other.flatMap(\.keys) != single.flatMap(\.keys))
            #expect(Set(other.flatMap(\.keys)) == Set(single.flatMap(\.keys)))
        }
    }

    @Test("epoch mode yields every sample exactly once per epoch, in a new order each epoch")
    func epochCoverage() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 45, perShard: 6)
            let configuration = loaderConfiguration(shards, batchSize: 7, epochs: 3)
            let loader = try makeLoader(configuration)
            let batches = try collectBatches(loader)
            let all = (0..<45).map(loaderKey)
            var epochs: [[String]] = [[], [], []]
            var epoch = 0
            for batch in batches {
                epochs[epoch].append(contentsOf: batch.keys)
                if batch.cursor.position == 0 || epochs[epoch].count == 45 { epoch += 1 }
            }
            for keys in epochs { #expect(keys.sorted() == all) }
            #expect(epochs[0] != all)
            #expect(epochs[0] != epochs[1] && epochs[1] != epochs[2])
            // Batches end at epoch boundaries: 45 = 6×7 + 3.
            #expect(batches.map(\.count) == Array(repeating: [7, 7, 7, 7, 7, 7, 3], count: 3).flatMap { $0 })
            #expect(batches.last!.cursor.epoch == 3)
            let statistics = loader.statistics
            #expect(statistics.samplesRead == 135 && statistics.samplesYielded == 135 && statistics.batchesYielded == 21)
            #expect(statistics.shardsOpened == 3 * shards.count)
        }
    }

    @Test("with world size 2 the ranks see disjoint halves whose union is every sample", arguments: [
        LoaderConfiguration.RankSplit.shards, .samples,
    ])
    func rankSharding(split: LoaderConfiguration.RankSplit) throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 50, perShard: 5)
            for epoch in 0..<2 {
                var perRank: [[String]] = []
                for rank in 0..<2 {
                    var configuration = loaderConfiguration(shards, batchSize: 4, epochs: epoch + 1)
                    configuration.worldSize = 2
                    configuration.rank = rank
                    configuration.rankSplit = split
                    let cursor = LoaderCursor(
                        epoch: epoch, position: 0, samplesYielded: 0, batchesYielded: 0,
                        planFingerprint: configuration.planFingerprint)
                    perRank.append(try collectBatches(try makeLoader(configuration, cursor: cursor)).flatMap(\.keys))
                }
                #expect(Set(perRank[0]).isDisjoint(with: perRank[1]))
                #expect((perRank[0] + perRank[1]).sorted() == (0..<50).map(loaderKey))
                #expect(perRank[0].count == 25 || split == .shards)
            }
        }
    }

    @Test("drop_last drops the partial batch at the end of an epoch and counts it")
    func dropLast() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 50, perShard: 10)
            var configuration = loaderConfiguration(shards, epochs: 2)
            configuration.dropLast = true
            let loader = try makeLoader(configuration)
            let batches = try collectBatches(loader)
            #expect(batches.map(\.count) == Array(repeating: 8, count: 12))
            #expect(loader.statistics.samplesDropped == 4)
            #expect(loader.statistics.samplesRead == 100)
            configuration.dropLast = false
            let kept = try collectBatches(try makeLoader(configuration))
            #expect(kept.map(\.count) == [8, 8, 8, 8, 8, 8, 2, 8, 8, 8, 8, 8, 8, 2])
            // The full batches are the same either way.
            #expect(batches.prefix(6).map(\.keys) == kept.prefix(6).map(\.keys))
        }
    }

    // MARK: - Resumption

    @Test("a loader resumed from a batch's cursor continues exactly, mid-epoch and across epoch boundaries",
          arguments: [true, false])
    func exactResume(dropLast: Bool) throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(
                in: directory, count: 43, perShard: 6, bad: [3: .undecodable, 20: .invalidUTF8, 21: .noImage])
            var configuration = loaderConfiguration(shards, batchSize: 6, workers: 3, epochs: 3)
            configuration.dropLast = dropLast
            let full = try collectBatches(try makeLoader(configuration))
            #expect(full.count == (dropLast ? 18 : 21))
            // Cut after every batch: mid-epoch, at the last batch of an epoch and just after it.
            for cut in 1..<full.count {
                let saved = try JSONEncoder().encode(full[cut - 1].cursor)
                let cursor = try JSONDecoder().decode(LoaderCursor.self, from: saved)
                var resumed = configuration
                resumed.workerThreads = 1 + cut % 3
                let rest = try collectBatches(try makeLoader(resumed, cursor: cursor))
                try expectSameBatches(rest, Array(full[cut...]))
            }
        }
    }

    @Test("the cursor is JSON with snake_case keys")
    func cursorCoding() throws {
        let cursor = LoaderCursor(epoch: 2, position: 17, samplesYielded: 300, batchesYielded: 5, planFingerprint: "ab12")
        let text = String(decoding: try JSONEncoder().encode(cursor), as: UTF8.self)
        #expect(text.contains("\"samples_yielded\":300") && text.contains("\"plan_fingerprint\":\"ab12\""))
        #expect(try JSONDecoder().decode(LoaderCursor.self, from: Data(text.utf8)) == cursor)
    }

    // MARK: - Resampled mode

    @Test("resampled mode keeps going past an epoch, per-rank draws, and resumes exactly across nominal epochs")
    func resampled() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 30, perShard: 5)
            var configuration = loaderConfiguration(shards, batchSize: 8, epochs: nil)
            configuration.mode = .resampled
            let loader = try makeLoader(configuration)
            let batches = try collectBatches(loader, limit: 20)
            #expect(batches.count == 20)
            #expect(batches.allSatisfy { $0.count == 8 })
            #expect(batches.last!.cursor.epoch >= 4)  // 160 samples from nominal epochs of 30
            let keys = batches.flatMap(\.keys)
            #expect(Set(keys).count < keys.count)
            loader.close()

            for cut in [3, 4, 11] {
                let rest = try collectBatches(try makeLoader(configuration, cursor: batches[cut - 1].cursor), limit: 20 - cut)
                try expectSameBatches(rest, Array(batches[cut...]))
            }

            var otherRank = configuration
            otherRank.worldSize = 2
            otherRank.rank = 1
            var firstRank = otherRank
            firstRank.rank = 0
            let a = try collectBatches(try makeLoader(firstRank), limit: 4).flatMap(\.keys)
            let b = try collectBatches(try makeLoader(otherRank), limit: 4).flatMap(\.keys)
            #expect(a != b)
        }
    }

    // MARK: - Bad input

    @Test("bad samples and broken shards are skipped and counted; yielded + skipped = read")
    func corruptInput() throws {
        try withTemporaryDirectory { directory in
            let bad: [Int: BadSample] = [
                1: .noCaption, 4: .undecodable, 7: .invalidUTF8, 8: .invalidJSON, 12: .emptyCaption, 15: .noImage,
                16: .undecodable,
            ]
            var shards = try writeLoaderShards(in: directory, count: 20, perShard: 10, bad: bad)
            // A third shard cut in the middle of its data, and a shard that does not exist.
            let broken = try writeLoaderShards(in: directory + "/broken", count: 10, perShard: 10, prefix: "cut")[0]
            let size = try FileManager.default.attributesOfItem(atPath: broken)[.size] as! Int
            let handle = try #require(FileHandle(forWritingAtPath: broken))
            try handle.truncate(atOffset: UInt64(size / 2 + 100))
            try handle.close()
            let intact = try ShardReader(path: broken).map(\.key)
            #expect(intact.count >= 3 && intact.count < 10)
            shards += [broken, directory + "/missing.tar"]

            var configuration = loaderConfiguration(shards, batchSize: 5, epochs: 1)
            configuration.worldSize = 1
            let loader = try makeLoader(configuration)
            let batches = try collectBatches(loader)
            let statistics = loader.statistics
            let expectedSkips = Dictionary(grouping: bad.values, by: \.reason).mapValues(\.count)
            #expect(statistics.skipped == expectedSkips)
            #expect(statistics.samplesRead == 20 + intact.count)
            #expect(statistics.samplesYielded + statistics.samplesSkipped == statistics.samplesRead)
            #expect(statistics.samplesYielded == batches.reduce(0) { $0 + $1.count })
            let yielded = Set(batches.flatMap(\.keys))
            #expect(yielded == Set((0..<20).filter { bad[$0] == nil }.map(loaderKey) + intact))
            #expect(statistics.shardFailures.count == 2)
            #expect(Set(statistics.shardFailures.map(\.path)) == [broken, directory + "/missing.tar"])
            #expect(statistics.shardFailures.first { $0.path == broken }?.samplesBefore == intact.count)
            let json = String(decoding: try JSONEncoder().encode(statistics), as: UTF8.self)
            #expect(json.contains("\"undecodable_image\":2"))
        }
    }

    @Test("an epoch with nothing usable is an error, not an endless wait")
    func nothingUsable() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 6, perShard: 3, bad: Dictionary(
                uniqueKeysWithValues: (0..<6).map { ($0, BadSample.undecodable) }))
            var configuration = loaderConfiguration(shards, epochs: nil)
            configuration.mode = .resampled
            let loader = try makeLoader(configuration)
            func isNoUsableSamples(_ error: any Error) -> Bool {
                if case DataError.noUsableSamples = error { return true }
                return false
            }
            #expect(performing: { _ = try loader.next() }, throws: isNoUsableSamples)
            #expect(performing: { _ = try loader.next() }, throws: isNoUsableSamples)

            let missing = loaderConfiguration([directory + "/none-1.tar", directory + "/none-2.tar"], epochs: nil)
            #expect(throws: DataError.self) { _ = try collectBatches(try makeLoader(missing)) }
        }
    }

    // MARK: - Threads

    @Test("thread_nice lowers the priority of the loader's threads, not the caller's")
    func threadNice() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 8, perShard: 8)
            var configuration = loaderConfiguration(shards, batchSize: 8)
            configuration.threadNice = 4
            let which = __priority_which_t(PRIO_PROCESS.rawValue)
            let base = getpriority(which, 0)
            let probe = NiceProbe()
            let decoder = ClosureSampleDecoder { data, fileExtension, size, random, pixels in
                probe.record(getpriority(which, 0))
                try FakeDecoder().decode(data, fileExtension: fileExtension, size: size, random: &random, into: pixels)
            }
            let loader = try DataLoader(configuration: configuration, decoder: decoder, tokenizer: UTF8ByteTokenizer())
            #expect(try loader.next()?.count == 8)
            #expect(probe.values == [min(19, base + 4)])
            #expect(getpriority(which, 0) == base)
        }
    }

    @Test("threads end when the loader is exhausted, closed or released mid-iteration")
    func shutdown() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 40, perShard: 10)
            let configuration = {
                var configuration = loaderConfiguration(shards, batchSize: 4, workers: 3, epochs: nil)
                configuration.mode = .resampled
                configuration.queueDepth = 2
                return configuration
            }()

            // Released mid-iteration while the pipeline is full and blocked on back-pressure.
            let released = WeakPipeline()
            let dropped = finishes(within: 20) {
                do {
                    let loader = try makeLoader(configuration, decoder: FakeDecoder(delay: 0.001))
                    released.pipeline = loader.pipeline
                    _ = try collectBatches(loader, limit: 3)
                    Thread.sleep(forTimeInterval: 0.05)
                } catch {
                    Issue.record("loader failed: \(error)")
                }
            }
            #expect(dropped)
            // The threads drop their last references to the shared state just after they report their end.
            let releaseDeadline = Date(timeIntervalSinceNow: 5)
            while released.pipeline != nil && Date() < releaseDeadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(released.pipeline == nil)

            // Closed while the consumer waits on a slow pipeline: next() returns nil, and threads are gone.
            let slow = try makeLoader(configuration, decoder: FakeDecoder(delay: 0.5, slowEvery: 1))
            let returned = DispatchSemaphore(value: 0)
            let received = ReceivedBatch()
            Thread {
                received.batch = try? slow.next()
                returned.signal()
            }.start()
            Thread.sleep(forTimeInterval: 0.1)
            #expect(slow.close(timeout: 10))
            #expect(returned.wait(timeout: .now() + 10) == .success)
            #expect(received.batch == nil)
            #expect(slow.runningThreads == 0)
            #expect(try slow.next() == nil)

            // Exhausted: the last epoch ends the threads without closing.
            let finite = try makeLoader(loaderConfiguration(shards, epochs: 1))
            _ = try collectBatches(finite)
            let deadline = Date(timeIntervalSinceNow: 10)
            while finite.runningThreads > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            #expect(finite.runningThreads == 0)
        }
    }
}

final class WeakPipeline: @unchecked Sendable {
    weak var pipeline: LoaderPipeline?
}

final class ReceivedBatch: @unchecked Sendable {
    var batch: Batch?
}

final class NiceProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var seen = Set<Int32>()

    func record(_ value: Int32) { lock.withLock { _ = seen.insert(value) } }
    var values: Set<Int32> { lock.withLock { seen } }
}
