import FileTestSupport
import Foundation
import Imaging
import Testing
import Tokenization
import Torch

@testable import BriVLData

/// A picture with a diagonal gradient whose colours depend on `index`.
func loaderTestImage(_ index: Int, width: Int = 48, height: Int = 40) throws -> Image {
    try Image(width: width, height: height) { pixels in
        for y in 0..<height {
            for x in 0..<width {
                let offset = 3 * (y * width + x)
                pixels[offset] = UInt8((x * 5 + index * 37) % 256)
                pixels[offset + 1] = UInt8((y * 6 + index * 11) % 256)
                pixels[offset + 2] = UInt8((x + y + index * 53) % 256)
            }
        }
    }
}

@Suite("Loader with real images and tokenizer")
struct LoaderImagingTests {
    /// Writes 24 samples, JPEG and PNG alternating, with a truncated JPEG at 5 and a non-image at 9.
    func writeImageShards(in directory: String) throws -> [String] {
        let writer = try ShardWriter(.init(directory: directory, prefix: "images", samplesPerShard: 8))
        for index in 0..<24 {
            let image = try loaderTestImage(index)
            var files = ["json": try PairRecord(texts: ["photo \(index)"]).encoded()]
            if index % 2 == 0 {
                var jpeg = try image.jpegData(quality: 85)
                if index == 6 { jpeg = jpeg.prefix(jpeg.count / 3) }
                files["jpg"] = jpeg
            } else {
                files["png"] = index == 9 ? Data("not a png".utf8) : try image.pngData()
            }
            try writer.write(Sample(key: loaderKey(index), files: files))
        }
        return try writer.finish().shards.map { (directory as NSString).appendingPathComponent($0.name) }
    }

    @Test("JPEG and PNG shards decode into normalised batches, identical for 1 and 2 workers; bad files are counted")
    func realImages() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeImageShards(in: directory)
            var configuration = LoaderConfiguration(shards: shards)
            configuration.batchSize = 5
            configuration.imageSize = 32
            configuration.maxTextLength = 8
            configuration.shuffleBufferSize = 10
            configuration.epochs = 2
            configuration.dropLast = false
            configuration.workerThreads = 1
            let decoder = try ImagingSampleDecoder.training(size: 32, scale: 0.5...1.0)
            let single = try DataLoader(configuration: configuration, decoder: decoder, tokenizer: UTF8ByteTokenizer())
            let batches = try collectBatches(single)
            configuration.workerThreads = 2
            try expectSameBatches(
                try collectBatches(
                    try DataLoader(configuration: configuration, decoder: decoder, tokenizer: UTF8ByteTokenizer())),
                batches)

            #expect(batches.reduce(0) { $0 + $1.count } == 2 * 22)
            #expect(single.statistics.skipped[.undecodableImage] == 4)
            #expect(!batches.flatMap(\.keys).contains(loaderKey(6)) && !batches.flatMap(\.keys).contains(loaderKey(9)))
            let images = batches[0].images
            #expect(images.shape == [5, 3, 32, 32])
            let values = try images.toArray(Float.self)
            // CLIP normalisation maps [0, 255] to about [-1.8, 2.2].
            #expect(values.allSatisfy { $0.isFinite && $0 > -1.9 && $0 < 2.2 })
            // The random crops differ between epochs: the same key does not give the same pixels.
            let first = batches.prefix(5).flatMap { batch in batch.keys.enumerated().map { (batch, $0.offset, $0.element) } }
            let second = batches.suffix(5).flatMap { batch in batch.keys.enumerated().map { (batch, $0.offset, $0.element) } }
            let key = first[0].2
            let again = try #require(second.first { $0.2 == key })
            #expect(try !first[0].0.images[first[0].1].equals(again.0.images[again.1]))
        }
    }

    @Test("the evaluation decoder writes exactly the normalised colour of a flat picture")
    func flatColour() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory, prefix: "flat"))
            let colour = Pixel(200, 100, 50)
            for index in 0..<3 {
                let image = try Image(width: 30, height: 20, color: colour)
                try writer.write(Sample(key: loaderKey(index), files: [
                    "png": try image.pngData(), "txt": Data("flat\nsecond line".utf8),
                ]))
            }
            let shards = try writer.finish().shards.map { (directory as NSString).appendingPathComponent($0.name) }
            var configuration = LoaderConfiguration(shards: shards)
            configuration.batchSize = 3
            configuration.imageSize = 8
            configuration.maxTextLength = 8
            configuration.epochs = 1
            configuration.caption = .first
            let loader = try DataLoader(
                configuration: configuration, decoder: try ImagingSampleDecoder.evaluation(size: 8),
                tokenizer: UTF8ByteTokenizer())
            let batch = try #require(try loader.next())
            #expect(batch.captions == ["flat", "flat", "flat"])
            let values = try batch.images.toArray(Float.self)
            let clip = Normalization.clip
            let bytes: [Float] = [200, 100, 50]
            for sample in 0..<3 {
                for channel in 0..<3 {
                    let expected: Float = (bytes[channel] / 255 - clip.mean[channel]) / clip.std[channel]
                    let start = (sample * 3 + channel) * 64
                    let plane = values[start..<(start + 64)]
                    #expect(plane.allSatisfy { abs($0 - expected) < 1e-5 })
                }
            }

            configuration.imageSize = 16
            #expect(throws: DataError.self) {
                try DataLoader(
                    configuration: configuration, decoder: try ImagingSampleDecoder.evaluation(size: 8),
                    tokenizer: UTF8ByteTokenizer())
            }
        }
    }

    @Test("BertTokenizer tokenises captions with [CLS] … [SEP], pads with [PAD] and cuts at the maximum length")
    func bertTokenizer() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeLoaderShards(in: directory, count: 4, perShard: 4)
            let vocabulary = try Vocabulary(tokens: [
                "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "caption", "first", "second", "0", "1", "2", "3",
            ])
            let tokenizer = try BertTokenizer(vocabulary: vocabulary)
            var configuration = loaderConfiguration(shards, batchSize: 4)
            configuration.caption = .first
            configuration.maxTextLength = 6
            let batch = try #require(try makeLoader(configuration, tokenizerOverride: tokenizer).next())
            let ids = try batch.tokenIDs.toArray(Int64.self)
            let mask = try batch.attentionMask.toArray(Int64.self)
            for (row, key) in batch.keys.enumerated() {
                let digit = Int64(8 + Int(key)!)
                #expect(Array(ids[row * 6..<row * 6 + 6]) == [2, 5, digit, 6, 3, 0])
                #expect(Array(mask[row * 6..<row * 6 + 6]) == [1, 1, 1, 1, 1, 0])
            }
            configuration.maxTextLength = 3
            let cut = try #require(try makeLoader(configuration, tokenizerOverride: tokenizer).next())
            #expect(try cut.tokenIDs.toArray(Int64.self).count == 12)
            #expect(try cut.tokenIDs[0].toArray(Int64.self) == [2, 5, 3])
        }
    }
}

func makeLoader(_ configuration: LoaderConfiguration, tokenizerOverride: any CaptionTokenizer) throws -> DataLoader {
    try DataLoader(configuration: configuration, decoder: FakeDecoder(), tokenizer: tokenizerOverride)
}
