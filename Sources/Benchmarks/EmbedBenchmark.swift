import BriVLInference
import Foundation
import Torch

/// Embedding throughput of an imported model beside the original project's own PyTorch inference on the same
/// checkpoint file (`benchmarks/peer_embed.py`: cn_clip or open_clip model code): images per second through the
/// image tower (random tensors of the model's size, no decoding on either side) and captions per second through the
/// text tower (tokenising included on both sides), with the same thread count.
///
/// Noise on a shared machine hits processes unevenly, so the sides take turns in blocks: ours, the peer, ours, the
/// peer. Figures are medians over every timed round of a side; `ratio` is ours / peer speed.
public struct EmbedBenchmark {
    public struct Configuration: Sendable {
        /// Our run folder (what `brivl import` wrote from `peerCheckpoint`).
        public var run: String
        /// The original file, `family` and its configuration's name (`ViT-B-16`, `RN50`, `ViT-B-32`, …).
        public var peerCheckpoint: String?
        public var family: String
        public var arch: String
        /// The test-data folder holding the projects' wheels (`downloads/`), as scripts/fetch-test-data.sh fills it.
        public var data: String
        public var python: String
        public var peerScript: String
        public var batch: Int
        public var rounds: Int
        public var warmup: Int

        public init(
            run: String, peerCheckpoint: String?, family: String, arch: String, data: String, python: String,
            peerScript: String, batch: Int, rounds: Int, warmup: Int = 1
        ) {
            self.run = run
            self.peerCheckpoint = peerCheckpoint
            self.family = family
            self.arch = arch
            self.data = data
            self.python = python
            self.peerScript = peerScript
            self.batch = batch
            self.rounds = rounds
            self.warmup = warmup
        }
    }

    /// The same captions as the peer's (`peer_embed.py`).
    static let captions = [
        "一双运动鞋", "红色的连衣裙在左边", "a photo of a bag 和一件外套", "海边的日落", "a dog running on the beach",
        "两只猫坐在沙发上", "a bowl of noodles with chopsticks", "夜晚城市的街道",
    ]

    public let configuration: Configuration

    public init(configuration: Configuration) { self.configuration = configuration }

    /// Seconds of each timed round, images and texts.
    struct Rounds {
        var images: [Double] = []
        var texts: [Double] = []

        mutating func append(_ other: Rounds) {
            images += other.images
            texts += other.texts
        }
    }

    public func run(report: (BenchmarkRecord) -> Void) throws {
        let trained = try TrainedModel(path: configuration.run)
        let size = trained.model.configuration.image.imageSize
        let embedder = trained.embedder(batchSize: configuration.batch)
        let images = try Tensor.randn([configuration.batch, 3, size, size], generator: Generator(seed: 0))
        let texts = (0..<configuration.batch).map { Self.captions[$0 % Self.captions.count] }
        let blockRounds = max(1, (configuration.rounds + 1) / 2)

        func ours() throws -> Rounds {
            var rounds = Rounds()
            for round in 0..<(configuration.warmup + blockRounds) {
                let image = try Measurement.time { _ = try embedder.embedImages(images) }
                let text = try Measurement.time { _ = try embedder.embedTexts(texts) }
                if round >= configuration.warmup {
                    rounds.images.append(image)
                    rounds.texts.append(text)
                }
            }
            return rounds
        }

        var mine = Rounds()
        var peer: Rounds?
        for _ in 0..<2 {
            mine.append(try ours())
            if configuration.peerCheckpoint != nil {
                var block = peer ?? Rounds()
                block.append(try runPeer(rounds: blockRounds))
                peer = block
            }
        }
        let batch = Double(configuration.batch)
        for (kind, oursSeconds, peerSeconds) in [
            ("image", mine.images, peer?.images), ("text", mine.texts, peer?.texts),
        ] {
            let oursRate = batch / Measurement.median(oursSeconds)
            var fields: [(String, BenchmarkValue)] = [
                ("benchmark", "embed"), ("model", .text(trained.model.configuration.name)), ("kind", .text(kind)),
                ("batch", .integer(configuration.batch)), ("threads", .integer(Engine.threadCount)),
                ("rounds", .integer(oursSeconds.count)), ("ours_per_s", .number(oursRate)),
            ]
            if let peerSeconds {
                let peerRate = batch / Measurement.median(peerSeconds)
                fields += [
                    ("peer", .text(configuration.family)), ("peer_per_s", .number(peerRate)),
                    ("ratio", .number(oursRate / peerRate)),
                ]
            }
            report(BenchmarkRecord(fields))
        }
    }

    private func runPeer(rounds: Int) throws -> Rounds {
        guard let checkpoint = configuration.peerCheckpoint else { return Rounds() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: configuration.python)
        process.arguments = [
            configuration.peerScript, "--family", configuration.family, "--arch", configuration.arch, "--checkpoint",
            checkpoint, "--data", configuration.data, "--batch", "\(configuration.batch)", "--rounds", "\(rounds)",
            "--warmup", "\(configuration.warmup)", "--threads", "\(Engine.threadCount)",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        struct Line: Decodable {
            let images_s: [Double]
            let texts_s: [Double]
        }
        guard process.terminationStatus == 0,
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let parsed = try? JSONDecoder().decode(Line.self, from: Data(line.utf8))
        else {
            throw BenchmarkError("the peer (\(configuration.python) \(configuration.peerScript)) failed with status \(process.terminationStatus)")
        }
        return Rounds(images: parsed.images_s, texts: parsed.texts_s)
    }
}
