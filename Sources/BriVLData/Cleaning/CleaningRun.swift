import ContentHashing
import Foundation

/// How a cleaning run executes (none of this changes its result).
public struct CleaningRunOptions: Sendable {
    /// Shard files (`.tar`) and folders of shards, in order; the order decides which of two duplicates is kept.
    public var inputs: [String]
    public var outputDirectory: String
    /// Shards cleaned at once, one thread each.
    public var workers: Int
    /// Clear a previous run's outputs in `outputDirectory` instead of resuming it.
    public var restart: Bool
    /// Pairs handed to the relevance scorer at once.
    public var scoringBatchSize: Int
    /// Testing: throw ``DataError/cancelled`` once this many samples have been read, leaving partial files as a
    /// crash would.
    var interruptAfterSamples: Int? = nil

    public init(
        inputs: [String], outputDirectory: String, workers: Int = 1, restart: Bool = false, scoringBatchSize: Int = 64
    ) {
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.workers = workers
        self.restart = restart
        self.scoringBatchSize = scoringBatchSize
    }
}

/// One line of progress: a shard finished (or was found finished by an earlier run).
public struct CleaningProgress: Sendable {
    public var shard: String
    /// 1-based position among all shards, and their number.
    public var shardNumber: Int
    public var shardCount: Int
    public var counts: CleaningCounts
    public var seconds: Double
    /// Shards finished so far, this run and before.
    public var shardsDone: Int
    public var pairsPerSecond: Double
    /// Estimated seconds left, from the input bytes still to read; nil before anything was measured.
    public var remainingSeconds: Double?
    public var resumed: Bool

    public var line: String {
        if resumed {
            return "[clean] \(shardsDone)/\(shardCount) \(shard): done in an earlier run "
                + "(\(counts.input) in, \(counts.kept) kept, \(counts.rejected) rejected)"
        }
        let reasons = CleaningRejectReason.allCases.compactMap { reason -> String? in
            let count = counts.droppedBy[reason] ?? 0
            return count > 0 ? "\(reason.rawValue) \(count)" : nil
        }
        var line = "[clean] \(shardsDone)/\(shardCount) \(shard): \(counts.input) in, \(counts.kept) kept, "
            + "\(counts.rejected) rejected"
        if !reasons.isEmpty { line += " (" + reasons.joined(separator: ", ") + ")" }
        line += String(format: " in %.1f s | %.0f pairs/s", seconds, pairsPerSecond)
        if let remainingSeconds { line += " | ETA " + Self.duration(remainingSeconds) }
        return line
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }
}

/// The per-shard completion record (`state/<shard>.json`), written last: a shard with a valid record is skipped by a
/// rerun. It carries the shard's counts and the dedup keys of its kept pairs, so a resumed run rebuilds the dedup set
/// and the report without reading the outputs.
struct ShardCompletion: Codable {
    var version = 1
    var fingerprint: String
    var input: String
    var counts: CleaningCounts
    var errors: [String]
    /// Every kept pair, in order.
    var kept: [KeptPair]
    var cleaned: ShardIndex.Shard?
    var rejects: ShardIndex.Shard?

    /// A kept pair's dedup key and output key, written as the two-string array `[hex, key]`.
    struct KeptPair: Codable, Equatable {
        var dedupKey: ContentHash
        var key: String

        init(dedupKey: ContentHash, key: String) {
            self.dedupKey = dedupKey
            self.key = key
        }

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            let hex = try container.decode(String.self)
            guard let hash = ContentHash(hex: hex) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(hex) is not a dedup key")
            }
            dedupKey = hash
            key = try container.decode(String.self)
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(dedupKey.description)
            try container.encode(key)
        }
    }
}

/// Cleans WebDataset shards: streaming, shard-parallel, resumable, every pair kept or rejected whole and counted.
///
/// Output folder:
/// - `cleaned/<shard>.tar` and `cleaned/cleaned-index.json`: kept pairs (cleaned caption, original ones in metadata);
/// - `rejects/<shard>.tar` and `rejects/rejects-index.json`: rejected pairs with `reject_reasons` in their metadata;
/// - `report.json`, `report.md`; `state/` (manifest and per-shard completion records); `tmp/` while running.
/// A shard with no kept (rejected) pair has no cleaned (rejects) file.
///
/// Parallelism and dedup: workers clean whole shards at once, but dedup decisions are taken in shard order (a worker
/// waits until every earlier shard has decided), against the kept keys of all earlier shards. So the first of two
/// duplicates in input order is kept, whatever the worker count, and the outputs equal a serial run's.
///
/// Resume: a shard is finished when its completion record exists, matches the run fingerprint and its outputs have
/// the recorded sizes. A crash mid-shard leaves no record, so only that shard is redone (its dedup decisions are
/// deterministic, so they agree with shards already finished after it).
public final class CleaningRun: @unchecked Sendable {
    public let configuration: CleaningConfiguration
    public let rules: TextRules
    public let lexicons: TextLexicons
    public let codec: any CleaningImageCodec
    public let scorer: (any RelevanceScorer)?
    public let options: CleaningRunOptions

    struct Job {
        var index: Int
        var path: String
        var name: String
        var bytes: Int
    }

    let jobs: [Job]
    let fingerprint: String
    let output: String

    public init(
        configuration: CleaningConfiguration, lexicons: TextLexicons, codec: any CleaningImageCodec,
        scorer: (any RelevanceScorer)? = nil, options: CleaningRunOptions
    ) throws {
        try configuration.validate()
        guard options.workers >= 1 else { throw DataError.invalidConfiguration("at least one worker is needed") }
        guard options.scoringBatchSize >= 1 else { throw DataError.invalidConfiguration("scoring batch size must be positive") }
        self.configuration = configuration
        self.lexicons = lexicons
        self.codec = codec
        self.scorer = scorer
        self.options = options
        rules = try TextRules(configuration: configuration.text, lexicons: lexicons)
        output = options.outputDirectory
        jobs = try Self.discover(options.inputs)

        var hasher = StreamingContentHasher(seed: 0xc1ea)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        hasher.combine(try encoder.encode(configuration))
        hasher.combine(rules.fingerprint.description)
        hasher.combine(codec.identifier)
        hasher.combine(scorer?.identifier ?? "no-scorer")
        for job in jobs {
            hasher.combine(job.name)
            hasher.combine(UInt64(job.bytes))
        }
        fingerprint = hasher.finalize().description
    }

    static func discover(_ inputs: [String]) throws -> [Job] {
        var paths: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw DataError.io(file: input, message: "no such shard or folder")
            }
            if isDirectory.boolValue {
                paths += try ShardIndex.discover(in: input).paths
            } else {
                paths.append(input)
            }
        }
        guard !paths.isEmpty else { throw DataError.invalidConfiguration("no input shards") }
        var names = Set<String>()
        var jobs: [Job] = []
        for (index, path) in paths.enumerated() {
            var name = (path as NSString).lastPathComponent
            if name.hasSuffix(".tar") { name.removeLast(4) }
            guard names.insert(name).inserted else {
                throw DataError.invalidConfiguration(
                    "two input shards are named \(name); clean them into different output folders")
            }
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let bytes = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            jobs.append(Job(index: index, path: path, name: name, bytes: bytes))
        }
        return jobs
    }

    // MARK: Layout

    func path(_ components: String...) -> String {
        components.reduce(output) { ($0 as NSString).appendingPathComponent($1) }
    }

    func recordPath(_ job: Job) -> String { path("state", job.name + ".json") }

    struct Manifest: Codable, Equatable {
        var version = 1
        var fingerprint: String
        var inputs: [String]
    }

    /// Checks that the output folder is empty, ours with the same fingerprint, or to be restarted.
    func prepareOutput() throws {
        let fileManager = FileManager.default
        let manifestPath = path("state", "manifest.json")
        let ours = ["cleaned", "rejects", "state", "tmp", "report.json", "report.md"]
        if options.restart {
            for name in ours { try? fileManager.removeItem(atPath: path(name)) }
        } else if let data = fileManager.contents(atPath: manifestPath) {
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
            guard manifest?.fingerprint == fingerprint else {
                throw DataError.resumeMismatch(
                    "\(output) holds a cleaning run with other settings, lexicons or inputs; pass --restart to clear "
                        + "its outputs, or choose another output folder")
            }
        } else if ["cleaned", "rejects"].contains(where: { fileManager.fileExists(atPath: path($0)) }) {
            throw DataError.resumeMismatch(
                "\(output) has cleaned/ or rejects/ but no cleaning state; choose an empty output folder or --restart")
        }
        do {
            for folder in ["cleaned", "rejects", "state"] {
                try fileManager.createDirectory(atPath: path(folder), withIntermediateDirectories: true)
            }
            try? fileManager.removeItem(atPath: path("tmp"))
            try fileManager.createDirectory(atPath: path("tmp"), withIntermediateDirectories: true)
            let manifest = Manifest(fingerprint: fingerprint, inputs: jobs.map(\.path))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        } catch {
            throw DataError.io(file: output, message: "cannot prepare the output folder: \(error)")
        }
    }

    /// The completion record of `job` when it is valid for this run.
    func finishedRecord(_ job: Job) -> ShardCompletion? {
        guard let data = FileManager.default.contents(atPath: recordPath(job)),
            let record = try? JSONDecoder().decode(ShardCompletion.self, from: data),
            record.fingerprint == fingerprint
        else { return nil }
        for (folder, shard) in [("cleaned", record.cleaned), ("rejects", record.rejects)] {
            let file = path(folder, job.name + ".tar")
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue
            if let shard {
                guard size == shard.bytes else { return nil }
            } else if size != nil {
                return nil
            }
        }
        return record
    }

    // MARK: Shared state

    struct DedupOwner {
        var shard: Int32
        var key: String
    }

    /// State the workers share, behind one condition lock.
    final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var pending: [Int]
        var nextClaim = 0
        var decided: [Bool]
        var firstUndecided = 0
        var dedup: [ContentHash: DedupOwner] = [:]
        var failure: Error? = nil
        var records: [Int: ShardCompletion] = [:]
        var samplesRead = 0
        // Progress.
        let start = Date()
        var bytesToDo = 0
        var bytesDone = 0
        var pairsDone = 0
        var shardsDone = 0

        init(shardCount: Int, pending: [Int]) {
            self.pending = pending
            decided = [Bool](repeating: false, count: shardCount)
        }

        func advanceDecided() {
            while firstUndecided < decided.count && decided[firstUndecided] { firstUndecided += 1 }
        }
    }

    // MARK: Running

    /// Cleans every shard not finished by an earlier run, then writes the indexes and the report.
    /// - Parameter progress: receives one line per shard (from worker threads, one at a time).
    @discardableResult
    public func run(progress: (@Sendable (CleaningProgress) -> Void)? = nil) throws -> CleaningReport {
        try prepareOutput()
        var pending: [Int] = []
        let shared = Shared(shardCount: jobs.count, pending: [])
        for job in jobs {
            if let record = finishedRecord(job) {
                shared.records[job.index] = record
                shared.decided[job.index] = true
                shared.shardsDone += 1
                for pair in record.kept where shared.dedup[pair.dedupKey] == nil {
                    shared.dedup[pair.dedupKey] = DedupOwner(shard: Int32(job.index), key: pair.key)
                }
                progress?(
                    CleaningProgress(
                        shard: job.name, shardNumber: job.index + 1, shardCount: jobs.count, counts: record.counts,
                        seconds: 0, shardsDone: shared.shardsDone, pairsPerSecond: 0, remainingSeconds: nil,
                        resumed: true))
            } else {
                pending.append(job.index)
                shared.bytesToDo += job.bytes
            }
        }
        shared.pending = pending
        shared.advanceDecided()

        let workerCount = min(options.workers, max(1, pending.count))
        let finished = DispatchGroup()
        let progressLock = NSLock()
        for _ in 0..<workerCount {
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                let cleaner = PairCleaner(configuration: configuration, rules: rules, codec: codec)
                while let job = claim(shared) {
                    do {
                        let started = Date()
                        let work = try cleanShard(job, cleaner: cleaner, shared: shared)
                        let decisions = try decide(work, shared: shared)
                        let record = try finalize(work, decisions: decisions)
                        shared.condition.lock()
                        shared.records[job.index] = record
                        shared.bytesDone += job.bytes
                        shared.pairsDone += record.counts.input
                        shared.shardsDone += 1
                        let elapsed = Date().timeIntervalSince(shared.start)
                        let event = CleaningProgress(
                            shard: job.name, shardNumber: job.index + 1, shardCount: jobs.count, counts: record.counts,
                            seconds: Date().timeIntervalSince(started), shardsDone: shared.shardsDone,
                            pairsPerSecond: Double(shared.pairsDone) / max(elapsed, 1e-9),
                            remainingSeconds: shared.bytesDone > 0
                                ? elapsed * Double(shared.bytesToDo - shared.bytesDone) / Double(shared.bytesDone) : nil,
                            resumed: false)
                        shared.condition.unlock()
                        if let progress {
                            progressLock.lock()
                            progress(event)
                            progressLock.unlock()
                        }
                    } catch {
                        shared.condition.lock()
                        if shared.failure == nil { shared.failure = error }
                        shared.condition.broadcast()
                        shared.condition.unlock()
                        return
                    }
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        finished.wait()
        if let failure = shared.failure { throw failure }
        try? FileManager.default.removeItem(atPath: path("tmp"))
        return try writeSummary(records: shared.records)
    }

    private func claim(_ shared: Shared) -> Job? {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        guard shared.failure == nil, shared.nextClaim < shared.pending.count else { return nil }
        let job = jobs[shared.pending[shared.nextClaim]]
        shared.nextClaim += 1
        return job
    }

    // MARK: Phase 1: rules, written to a spool (candidates) and the rejects file

    struct Candidate {
        var key: String
        var dedupKey: ContentHash
        var fileCount: Int
        var modifications: PairModifications
        var scored: Bool
    }

    final class ShardWork {
        let job: Job
        var counts = CleaningCounts()
        var errors: [String] = []
        var candidates: [Candidate] = []
        let rejects: TarWriter
        var rejectCount = 0
        let spoolPath: String
        let rejectsPath: String
        var usedKeys = Set<String>()

        init(job: Job, spoolPath: String, rejectsPath: String) throws {
            self.job = job
            self.spoolPath = spoolPath
            self.rejectsPath = rejectsPath
            rejects = try TarWriter(path: rejectsPath)
        }

        /// The sample's key, or a suffixed one when the shard already used it (keys must be unique in an output).
        func uniqueKey(_ key: String) -> String {
            if usedKeys.insert(key).inserted { return key }
            var number = 2
            while !usedKeys.insert("\(key)_\(number)").inserted { number += 1 }
            return "\(key)_\(number)"
        }

        func reject(_ pair: RejectedPair) throws {
            try CleaningRun.append(pair.sample(), to: rejects)
            rejectCount += 1
            counts.rejected += 1
            counts.droppedBy[pair.primaryReason, default: 0] += 1
            for reason in pair.reasons { counts.failedRules[reason, default: 0] += 1 }
        }
    }

    static func append(_ sample: Sample, to writer: TarWriter) throws {
        for fileExtension in sample.files.keys.sorted() {
            try writer.append(TarEntry(name: "\(sample.key).\(fileExtension)", data: sample.files[fileExtension]!))
        }
    }

    func cleanShard(_ job: Job, cleaner: PairCleaner, shared: Shared) throws -> ShardWork {
        let work = try ShardWork(
            job: job, spoolPath: path("tmp", job.name + ".spool.tar"), rejectsPath: path("tmp", job.name + ".rejects.tar"))
        let spool = try TarWriter(path: work.spoolPath)
        var batch: [AcceptedPair] = []

        func flush() throws {
            guard !batch.isEmpty else { return }
            if let scorer {
                var pairs: [(image: Data, text: String)] = []
                for pair in batch { for text in pair.cleanedTexts { pairs.append((pair.imageData, text)) } }
                let scores = try scorer.scores(pairs)
                guard scores.count == pairs.count else {
                    throw DataError.invalidConfiguration(
                        "the relevance scorer returned \(scores.count) scores for \(pairs.count) pairs")
                }
                var offset = 0
                for index in batch.indices {
                    let count = batch[index].cleanedTexts.count
                    batch[index].score = scores[offset..<(offset + count)].max()
                    offset += count
                }
            }
            for pair in batch {
                if let score = pair.score, score < configuration.relevance.minimumCosine {
                    try work.reject(
                        RejectedPair(
                            key: pair.key, files: pair.original.files, reasons: [.lowRelevance],
                            details: [
                                String(
                                    format: "relevance cosine %.4f < %.4f", score, configuration.relevance.minimumCosine)
                            ], record: pair.originalRecord))
                    continue
                }
                let sample = pair.sample()
                try Self.append(sample, to: spool)
                work.candidates.append(
                    Candidate(
                        key: pair.key, dedupKey: pair.dedupKey(scoreDecimals: configuration.dedup.scoreDecimals),
                        fileCount: sample.files.count, modifications: pair.modifications, scored: pair.score != nil))
            }
            batch.removeAll(keepingCapacity: true)
        }

        var stream: CleaningSampleStream
        do {
            stream = try CleaningSampleStream(path: job.path)
        } catch {
            work.errors.append("\(error)")
            try spool.finish()
            return work
        }
        while let event = stream.next() {
            switch event {
            case .skippedMember:
                work.counts.skippedMembers += 1
                continue
            case .archiveError(let error):
                work.errors.append("\(error)")
                continue
            case .brokenSample(let sample, let error):
                work.errors.append("\(error)")
                work.counts.input += 1
                try work.reject(
                    RejectedPair(
                        key: work.uniqueKey(sample.key), files: sample.files, reasons: [.truncatedArchive],
                        details: ["the archive breaks inside this sample: \(error)"], record: nil))
            case .sample(let sample):
                work.counts.input += 1
                switch cleaner.process(sample, outputKey: work.uniqueKey(sample.key), counts: &work.counts) {
                case .rejected(let pair): try work.reject(pair)
                case .accepted(let pair):
                    batch.append(pair)
                    if batch.count >= options.scoringBatchSize { try flush() }
                }
            }
            if let limit = options.interruptAfterSamples {
                shared.condition.lock()
                shared.samplesRead += 1
                let stop = shared.samplesRead >= limit
                shared.condition.unlock()
                if stop { throw DataError.cancelled }
            }
        }
        try flush()
        try spool.finish()
        return work
    }

    // MARK: Phase 2: dedup decisions, in shard order

    /// nil keeps the candidate; otherwise the pair it duplicates ("shard/key").
    func decide(_ work: ShardWork, shared: Shared) throws -> [String?] {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.firstUndecided < work.job.index && shared.failure == nil { shared.condition.wait() }
        if shared.failure != nil { throw DataError.cancelled }
        var decisions: [String?] = []
        decisions.reserveCapacity(work.candidates.count)
        let index = Int32(work.job.index)
        for candidate in work.candidates {
            guard configuration.dedup.enabled else {
                decisions.append(nil)
                continue
            }
            if let owner = shared.dedup[candidate.dedupKey], owner.shard <= index {
                decisions.append(jobs[Int(owner.shard)].name + "/" + owner.key)
            } else {
                shared.dedup[candidate.dedupKey] = DedupOwner(shard: index, key: candidate.key)
                decisions.append(nil)
            }
        }
        shared.decided[work.job.index] = true
        shared.advanceDecided()
        shared.condition.broadcast()
        return decisions
    }

    // MARK: Phase 3: outputs and completion record

    func finalize(_ work: ShardWork, decisions: [String?]) throws -> ShardCompletion {
        let job = work.job
        let cleanedTemporary = path("tmp", job.name + ".cleaned.tar")
        let cleaned = try TarWriter(path: cleanedTemporary)
        var cleanedCount = 0
        var kept: [ShardCompletion.KeptPair] = []
        let spool = try TarReader(path: work.spoolPath)
        for (candidate, duplicateOf) in zip(work.candidates, decisions) {
            var files: [String: Data] = [:]
            for _ in 0..<candidate.fileCount {
                guard let entry = try spool.next(), let (_, fileExtension) = Sample.split(name: entry.name) else {
                    throw DataError.io(file: work.spoolPath, message: "the spool file ends early")
                }
                files[fileExtension] = entry.data
            }
            let sample = Sample(key: candidate.key, files: files)
            if let duplicateOf {
                let record = try? CaptionReader.record(of: sample).get()
                let what = candidate.scored ? "text and relevance score" : "text and image bytes"
                try work.reject(
                    RejectedPair(
                        key: candidate.key, files: files, reasons: [.duplicate],
                        details: ["same normalised \(what) as \(duplicateOf)"], record: record,
                        extraMetadata: ["duplicate_of": duplicateOf]))
            } else {
                try Self.append(sample, to: cleaned)
                cleanedCount += 1
                candidate.modifications.apply(to: &work.counts)
                kept.append(ShardCompletion.KeptPair(dedupKey: candidate.dedupKey, key: candidate.key))
            }
        }
        try cleaned.finish()
        try work.rejects.finish()
        try? FileManager.default.removeItem(atPath: work.spoolPath)

        work.counts.fillZeroReasons()
        try work.counts.checkConsistency(context: "shard \(job.name)")

        func place(_ temporary: String, folder: String, count: Int, bytes: Int) throws -> ShardIndex.Shard? {
            let final = path(folder, job.name + ".tar")
            try? FileManager.default.removeItem(atPath: final)
            guard count > 0 else {
                try? FileManager.default.removeItem(atPath: temporary)
                return nil
            }
            guard rename(temporary, final) == 0 else {
                throw DataError.io(file: final, message: "cannot move the finished shard into place")
            }
            return ShardIndex.Shard(name: job.name + ".tar", samples: count, bytes: bytes)
        }
        let record = ShardCompletion(
            fingerprint: fingerprint, input: job.path, counts: work.counts, errors: work.errors, kept: kept,
            cleaned: try place(cleanedTemporary, folder: "cleaned", count: cleanedCount, bytes: cleaned.offset),
            rejects: try place(work.rejectsPath, folder: "rejects", count: work.rejectCount, bytes: work.rejects.offset))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(record).write(to: URL(fileURLWithPath: recordPath(job)), options: .atomic)
        } catch {
            throw DataError.io(file: recordPath(job), message: "cannot write the completion record: \(error)")
        }
        return record
    }

    // MARK: Summary

    func writeSummary(records: [Int: ShardCompletion]) throws -> CleaningReport {
        var totals = CleaningCounts()
        var summaries: [CleaningReport.ShardSummary] = []
        var cleanedShards: [ShardIndex.Shard] = []
        var rejectShards: [ShardIndex.Shard] = []
        for job in jobs {
            guard let record = records[job.index] else {
                throw DataError.inconsistentCounts("shard \(job.name) has no completion record")
            }
            totals.add(record.counts)
            summaries.append(
                .init(
                    name: job.name, input: record.counts.input, kept: record.counts.kept,
                    rejected: record.counts.rejected, errors: record.errors))
            if let shard = record.cleaned { cleanedShards.append(shard) }
            if let shard = record.rejects { rejectShards.append(shard) }
        }
        totals.fillZeroReasons()
        try totals.checkConsistency(context: "run totals")
        guard cleanedShards.reduce(0, { $0 + $1.samples }) == totals.kept,
            rejectShards.reduce(0, { $0 + $1.samples }) == totals.rejected
        else {
            throw DataError.inconsistentCounts("the shards written do not hold the kept and rejected pairs counted")
        }
        try ShardIndex(shards: cleanedShards).write(to: ShardIndex.path(directory: path("cleaned"), prefix: "cleaned"))
        try ShardIndex(shards: rejectShards).write(to: ShardIndex.path(directory: path("rejects"), prefix: "rejects"))

        func summary(_ lexicon: Lexicon?) -> CleaningReport.LexiconSummary {
            guard let lexicon, !lexicon.entries.isEmpty else {
                return .init(source: "off", entries: 0, fingerprint: nil)
            }
            return .init(source: lexicon.source, entries: lexicon.entries.count, fingerprint: lexicon.fingerprint.description)
        }
        let report = CleaningReport(
            fingerprint: fingerprint, configuration: configuration,
            lexicons: [
                "sensitive": summary(lexicons.sensitive), "names": summary(lexicons.names),
                "boilerplate": summary(lexicons.boilerplate),
            ], imageCodec: codec.identifier, relevanceScorer: scorer?.identifier, totals: totals, shards: summaries)
        do {
            try report.jsonData().write(to: URL(fileURLWithPath: path("report.json")), options: .atomic)
            try Data(report.markdown().utf8).write(to: URL(fileURLWithPath: path("report.md")), options: .atomic)
        } catch {
            throw DataError.io(file: path("report.json"), message: "cannot write the report: \(error)")
        }
        return report
    }
}
