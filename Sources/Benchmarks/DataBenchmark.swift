import Foundation
import Imaging
import Torch

/// Data-pipeline figures: each named workload prints one JSON line; `only` picks some.
///
/// Image workloads compare ours with Pillow (+NumPy) on the same photos in the same invocation: the peer runs in a
/// Python process we start once and drive round by round over a pipe, interleaved with our rounds, each side on one
/// thread and timing itself (so the pipe costs nothing).
public struct DataBenchmark {
    public struct Configuration: Sendable {
        /// Timed rounds per workload (medians are reported).
        public var rounds: Int = 7
        /// Workloads to run; all by default.
        public var only: Set<String>? = nil
        /// A folder of JPEG photos (see `benchmarks/prepare_data_images.sh`).
        public var imagesDirectory: String
        /// A Python with Pillow and NumPy for the peer.
        public var python: String
        /// The peer's driver script (`benchmarks/pillow_decode.py`).
        public var peerScript: String
        /// Seconds one timed round of ours should take at least; the repeat count is calibrated to it.
        public var secondsPerRound: Double = 0.4

        public init(
            rounds: Int = 7, only: Set<String>? = nil, imagesDirectory: String, python: String, peerScript: String,
            secondsPerRound: Double = 0.4
        ) {
            self.rounds = rounds
            self.only = only
            self.imagesDirectory = imagesDirectory
            self.python = python
            self.peerScript = peerScript
            self.secondsPerRound = secondsPerRound
        }
    }

    /// Every workload: name and what it measures.
    public static let workloadDescriptions: [(name: String, summary: String)] = [
        (
            "decode_resize_crop_224",
            "JPEG decode + resize shorter side 224 (bicubic, antialiased) + center crop 224, images/s on one thread, "
                + "ours (default options: DCT-scaled decode by 1/2, 1/4 or 1/8, fused resample) vs Pillow+NumPy"
        ),
        (
            "decode_resize_crop_224_full_decode",
            "the same with our JPEG DCT scaling disabled (full-size decode like Pillow's), vs Pillow+NumPy"
        ),
        (
            "resize_crop_224_swift_vs_aten",
            "resample only (decoded photos → shorter side 224 bicubic antialiased + center crop): our Swift resampler "
                + "vs ATen's interpolate(antialias: true) through the shim, one thread"
        ),
        loaderWorkloadDescription,
        cleanTextRulesWorkloadDescription,
    ]

    public static var workloads: [String] { workloadDescriptions.map(\.name) }

    /// The peer's default location: `benchmarks/pillow_decode.py` in the working directory, else in the source tree
    /// this binary was built from.
    public static var defaultPeerScript: String {
        let relative = "benchmarks/pillow_decode.py"
        if FileManager.default.fileExists(atPath: relative) { return relative }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../\(relative)")
            .standardizedFileURL.path
    }

    public static let defaultImagesDirectory = ".cache/bench-images"

    /// `.cache/bench-venv/bin/python` when present (what the preparation script builds), else `python3`.
    public static var defaultPython: String {
        let venv = ".cache/bench-venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }

    public static let preparationHint =
        "prepare them with `benchmarks/prepare_data_images.sh` (downloads scikit-image's sample photos and installs "
        + "Pillow+NumPy into .cache/bench-venv)"

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the selected workloads, handing each record to `emit` as soon as it is measured.
    public func run(emit: (BenchmarkRecord) -> Void) throws {
        let selected = configuration.only ?? Set(Self.workloads)
        let previousThreads = Engine.threadCount
        Engine.threadCount = 1
        defer { Engine.threadCount = previousThreads }
        if selected.contains("loader") { emit(try loaderThroughput()) }
        if selected.contains("clean_text_rules") { emit(try cleanTextRules()) }
        try runImageWorkloads(selected, emit: emit)
    }

    /// The photo workloads share the photos and one peer process.
    private func runImageWorkloads(_ selected: Set<String>, emit: (BenchmarkRecord) -> Void) throws {
        let imageWorkloads = ["decode_resize_crop_224", "decode_resize_crop_224_full_decode", "resize_crop_224_swift_vs_aten"]
        guard !selected.isDisjoint(with: imageWorkloads) else { return }
        let photos = try loadPhotos()
        let needsPeer = selected.contains("decode_resize_crop_224") || selected.contains("decode_resize_crop_224_full_decode")
        let peer = needsPeer ? try PillowPeer(python: configuration.python, script: configuration.peerScript, files: photos.map(\.path)) : nil
        defer { peer?.close() }
        if selected.contains("decode_resize_crop_224") {
            emit(try decodeResizeCrop(name: "decode_resize_crop_224", photos: photos, peer: peer!, dctScaling: .powerOfTwo))
        }
        if selected.contains("decode_resize_crop_224_full_decode") {
            emit(try decodeResizeCrop(name: "decode_resize_crop_224_full_decode", photos: photos, peer: peer!, dctScaling: .disabled))
        }
        if selected.contains("resize_crop_224_swift_vs_aten") { emit(try resamplers(photos: photos)) }
    }

    struct Photo {
        var path: String
        var size: Int
    }

    private func loadPhotos() throws -> [Photo] {
        let directory = configuration.imagesDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw BenchmarkError("no photo folder at \(directory): \(Self.preparationHint), or pass --images DIR")
        }
        let photos = names.sorted().filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
            .map { "\(directory)/\($0)" }
            .compactMap { path -> Photo? in
                guard let data = FileManager.default.contents(atPath: path), ImageFormat.sniff(data) == .jpeg else { return nil }
                return Photo(path: path, size: data.count)
            }
        guard !photos.isEmpty else {
            throw BenchmarkError("no JPEG photos in \(directory): \(Self.preparationHint), or pass --images DIR")
        }
        return photos
    }

    /// Ours: read the file, decode (DCT-scaled when allowed), resize + crop fused, as the loader does.
    private func decodeResizeCrop(name: String, photos: [Photo], peer: PillowPeer, dctScaling: DCTScaling) throws
        -> BenchmarkRecord
    {
        var options = DecodeOptions()
        options.dctScaling = dctScaling
        let pipeline = try ImagePipeline([.resize(shorter: 224, filter: .bicubic), .centerCrop(224)], decodeOptions: options)
        var generator = SeededRandom(seed: 0)
        func ours(_ repeats: Int) throws -> Double {
            try Measurement.time {
                for _ in 0..<repeats {
                    for photo in photos {
                        let data = try Data(contentsOf: URL(fileURLWithPath: photo.path))
                        let image = try pipeline.image(decoding: data, using: &generator)
                        precondition(image.width == 224 && image.height == 224)
                    }
                }
            }
        }
        let repeats = try calibrate(ours)
        let (oursSeconds, peerSeconds) = try Measurement.interleaved(
            rounds: configuration.rounds, warmup: 1, { try ours(repeats) }, { try peer.round(repeats: repeats) })
        let images = Double(repeats * photos.count)
        // How close the two outputs are (Pillow rounds between its passes; our DCT scaling changes the source).
        let similarity = try peerSimilarity(pipeline: pipeline, photos: photos, peer: peer)
        return BenchmarkRecord([
            ("bench", "data"), ("name", .text(name)), ("ours_images_per_s", .number(images / oursSeconds)),
            ("peer_images_per_s", .number(images / peerSeconds)), ("ratio", .number(peerSeconds / oursSeconds)),
            ("ours_ms_per_image", .number(oursSeconds / images * 1e3)),
            ("peer_ms_per_image", .number(peerSeconds / images * 1e3)), ("images", .integer(photos.count)),
            ("repeats", .integer(repeats)), ("psnr_vs_peer_db", .number(similarity.mean)),
            ("min_psnr_vs_peer_db", .number(similarity.minimum)), ("peer", .text(peer.version)), ("threads", 1),
        ])
    }

    /// The resampling alone on decoded photos: our Swift passes versus ATen's antialiased interpolate.
    private func resamplers(photos: [Photo]) throws -> BenchmarkRecord {
        var options = DecodeOptions()
        options.dctScaling = .disabled
        let images = try photos.map { try ImageDecoder.decode(contentsOf: $0.path, options: options) }
        let pipeline = try ImagePipeline([.resize(shorter: 224, filter: .bicubic), .centerCrop(224)])
        // ATen needs planar floats: wrap the bytes as [1, H, W, 3], permute to [1, 3, H, W] and convert (part of its cost).
        let tensors = try images.map { try $0.byteTensor().unsqueezed(0).permuted(0, 3, 1, 2) }
        func swift(_ repeats: Int) throws -> Double {
            try Measurement.time {
                for _ in 0..<repeats { for image in images { _ = try pipeline.image(from: image) } }
            }
        }
        func aten(_ repeats: Int) throws -> Double {
            try withNoGrad {
                try Measurement.time {
                    for _ in 0..<repeats {
                        for (image, tensor) in zip(images, tensors) {
                            let size = image.size.scaledToShorterSide(224)
                            let resized = try Functional.interpolate(
                                tensor.to(dtype: .float32), size: (size.height, size.width), mode: .bicubic,
                                antialias: true)
                            let top = Int((Double(size.height - 224) / 2).rounded(.toNearestOrEven))
                            let left = Int((Double(size.width - 224) / 2).rounded(.toNearestOrEven))
                            _ = try resized.narrowed(dimension: 2, start: top, length: 224)
                                .narrowed(dimension: 3, start: left, length: 224).contiguous()
                        }
                    }
                }
            }
        }
        let repeats = try calibrate(swift)
        let (swiftSeconds, atenSeconds) = try Measurement.interleaved(
            rounds: configuration.rounds, warmup: 1, { try swift(repeats) }, { try aten(repeats) })
        let count = Double(repeats * images.count)
        return BenchmarkRecord([
            ("bench", "data"), ("name", "resize_crop_224_swift_vs_aten"), ("ours_images_per_s", .number(count / swiftSeconds)),
            ("aten_images_per_s", .number(count / atenSeconds)), ("ratio", .number(atenSeconds / swiftSeconds)),
            ("images", .integer(images.count)), ("repeats", .integer(repeats)), ("threads", 1),
        ])
    }

    /// The repeat count that makes one round of `body` last about `secondsPerRound`.
    private func calibrate(_ body: (Int) throws -> Double) throws -> Int {
        let once = try body(1)
        return max(1, Int((configuration.secondsPerRound / max(once, 1e-6)).rounded(.up)))
    }

    /// PSNR between our output and Pillow's for each photo (mean and minimum).
    private func peerSimilarity(pipeline: ImagePipeline, photos: [Photo], peer: PillowPeer) throws -> (
        mean: Double, minimum: Double
    ) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try peer.dump(into: directory.path)
        var values: [Double] = []
        var generator = SeededRandom(seed: 0)
        for (index, photo) in photos.enumerated() {
            let ours = try pipeline.image(decoding: Data(contentsOf: URL(fileURLWithPath: photo.path)), using: &generator)
            let theirs = try Data(contentsOf: directory.appendingPathComponent("\(index).rgb"))
            guard theirs.count == ours.byteCount else { throw BenchmarkError("the peer's output for \(photo.path) has \(theirs.count) bytes") }
            var squared = 0.0
            ours.withUnsafeBufferPointer { mine in
                for (a, b) in zip(mine, theirs) {
                    let d = Double(a) - Double(b)
                    squared += d * d
                }
            }
            let mse = squared / Double(ours.byteCount)
            values.append(mse == 0 ? 99 : 10 * log10(255 * 255 / mse))
        }
        return (values.reduce(0, +) / Double(values.count), values.min() ?? .nan)
    }
}

/// A failure of a benchmark's setup, with what to do about it.
public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The Pillow side: one long-lived Python process driven line by line.
final class PillowPeer {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    private let listing: URL
    let version: String

    init(python: String, script: String, files: [String]) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw BenchmarkError("the peer script \(script) does not exist; pass --peer-script PATH (benchmarks/pillow_decode.py)")
        }
        listing = FileManager.default.temporaryDirectory.appendingPathComponent("brivl-bench-files-\(getpid()).txt")
        try (files.joined(separator: "\n") + "\n").write(to: listing, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, listing.path]
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw BenchmarkError("cannot start \(python): \(error.localizedDescription)")
        }
        let hello = try PillowPeer.readJSON(from: output, buffer: &buffer)
        guard hello["ready"] as? Bool == true else {
            let reason = hello["error"] as? String ?? "it did not start"
            process.terminate()
            throw BenchmarkError(
                "Pillow is missing for \(python) (\(reason)). Install it with `python3 -m venv .cache/bench-venv && "
                    + ".cache/bench-venv/bin/pip install Pillow numpy` and pass --python .cache/bench-venv/bin/python "
                    + "(or run benchmarks/prepare_data_images.sh)")
        }
        version = "Pillow \(hello["pillow"] ?? "?"), NumPy \(hello["numpy"] ?? "?"), libjpeg-turbo \(hello["libjpeg_turbo"] ?? "?")"
    }

    /// Runs every file `repeats` times in the peer; returns the seconds it measured itself.
    func round(repeats: Int) throws -> Double {
        let reply = try send("round \(repeats)")
        guard let seconds = reply["seconds"] as? Double else { throw BenchmarkError("the peer answered \(reply)") }
        return seconds
    }

    /// Has the peer write its 224×224 RGB output of file i to DIR/i.rgb.
    func dump(into directory: String) throws {
        let reply = try send("dump \(directory)")
        guard reply["dumped"] != nil else { throw BenchmarkError("the peer answered \(reply)") }
    }

    func close() {
        if process.isRunning {
            try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: listing)
    }

    private func send(_ command: String) throws -> [String: Any] {
        try input.fileHandleForWriting.write(contentsOf: Data((command + "\n").utf8))
        return try PillowPeer.readJSON(from: output, buffer: &buffer)
    }

    private static func readJSON(from pipe: Pipe, buffer: inout Data) throws -> [String: Any] {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw BenchmarkError("the peer wrote \(String(decoding: line, as: UTF8.self))")
                }
                return object
            }
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { throw BenchmarkError("the peer exited unexpectedly (see its error output above)") }
            buffer.append(chunk)
        }
    }
}
