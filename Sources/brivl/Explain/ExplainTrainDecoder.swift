import ArgumentParser
import BriVLData
import BriVLInterpret
import Foundation
import Imaging
import Torch

extension BriVL.Explain {
    struct ExplainTrainDecoder: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-decoder",
            abstract: "Train the small picture autoencoder that `concept --decoder` searches the latent of.",
            discussion: """
                Reads the pictures of the shards (PNG, JPEG or WebP members), fits them to --size pixels as the \
                model's evaluation preprocessing does, trains, and writes autoencoder.safetensors, \
                autoencoder.json, training.json (loss per step) and reconstructions.png (pictures above, \
                reconstructions below) into --output.
                """)

        @Option(help: "Shard files (.tar) or folders of them (repeatable).")
        var shards: [String]

        @Option(name: .shortAndLong, help: "Folder for the decoder.")
        var output: String = "decoder"

        @Option(help: "Picture side in pixels (the model's input size).")
        var size: Int = 64

        @Option(help: "Pictures to read at most.")
        var limit: Int = 4000

        @Option(help: "Training steps.")
        var steps: Int = 1500

        @Option(help: "Pictures per step.")
        var batchSize: Int = 32

        @Option(help: "Adam's step size.")
        var learningRate: Double = 2e-3

        @Option(help: "Channels of the latent map.")
        var latentChannels: Int = 8

        @Option(help: "Seed of the initial weights and the batches.")
        var seed: UInt64 = 0

        @OptionGroup var engine: EngineOptions

        func validate() throws {
            guard !shards.isEmpty else { throw ValidationError("give --shards") }
            guard limit >= 1, steps >= 1, batchSize >= 1, latentChannels >= 1 else {
                throw ValidationError("--limit, --steps, --batch-size and --latent-channels must be positive")
            }
        }

        /// Every .tar file named or inside a named folder, sorted.
        func shardFiles() throws -> [String] {
            var files: [String] = []
            for path in shards {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw ValidationError("no shard or folder at \(path)")
                }
                if isDirectory.boolValue {
                    files += try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".tar") }
                        .sorted().map { (path as NSString).appendingPathComponent($0) }
                } else {
                    files.append(path)
                }
            }
            guard !files.isEmpty else { throw ValidationError("no .tar shards in \(shards.joined(separator: ", "))") }
            return files
        }

        func readPictures() throws -> [Tensor] {
            var pictures: [Tensor] = []
            for file in try shardFiles() where pictures.count < limit {
                let reader = try ShardReader(path: file)
                while pictures.count < limit, let sample = reader.next() {
                    guard let data = ["png", "jpg", "jpeg", "webp"].lazy.compactMap({ sample.files[$0] }).first else {
                        continue
                    }
                    let picture = try ImageDecoder.decode(data: data).resized(shorterSide: size).centerCropped(size)
                    pictures.append(try picture.tensor(normalization: .unit))
                }
                if let error = reader.error { throw error }
            }
            guard !pictures.isEmpty else { throw ValidationError("the shards hold no pictures") }
            return pictures
        }

        func run() throws {
            engine.apply()
            let pictures = try Tensor.stack(readPictures())
            print("\(pictures.size(0)) pictures of \(size)×\(size)")
            let autoencoder = try PictureAutoencoder(
                AutoencoderConfiguration(imageSize: size, latentChannels: latentChannels), generator: Generator(seed: seed))
            let bar = ProgressBar("train-decoder", total: steps)
            let losses = try autoencoder.fit(
                pictures, steps: steps, batchSize: batchSize, learningRate: learningRate, seed: seed
            ) { done, loss in bar.update(done, detail: String(format: "mse %.4f", loss)) }
            bar.finish(steps)
            try autoencoder.save(to: output)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(["reconstruction_mse": losses.map { ($0 * 1e6).rounded() / 1e6 }]).write(
                to: URL(fileURLWithPath: (output as NSString).appendingPathComponent("training.json")))

            let shown = try pictures.narrowed(dimension: 0, start: 0, length: min(8, pictures.size(0)))
            let reconstructed = try withNoGrad { try autoencoder.decode(autoencoder.encode(shown)) }
            let tiles = try (0..<shown.size(0)).map { try Rendering.image(from: shown.selected(dimension: 0, index: $0)) }
                + (0..<shown.size(0)).map { try Rendering.image(from: reconstructed.selected(dimension: 0, index: $0)) }
            try Rendering.writePNG(
                Rendering.grid(tiles, columns: shown.size(0)),
                to: (output as NSString).appendingPathComponent("reconstructions.png"), enlargedBy: 2)
            let first = losses.prefix(20).reduce(0, +) / Double(min(20, losses.count))
            let last = losses.suffix(20).reduce(0, +) / Double(min(20, losses.count))
            print(String(format: "reconstruction mse %.4f (first 20 steps) → %.4f (last 20); wrote %@", first, last, output))
        }
    }
}
