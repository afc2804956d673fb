import Foundation
import Testing
import Torch

@testable import BriVLData

struct FakeDecodeError: Error {}

/// A decoder for ordering tests: the image file `IMG <n>` becomes pixels whose channel 0 is n, channel 1 one draw of
/// the augmentation stream, channel 2 the pixel index; anything else fails to decode. Samples whose n is a multiple
/// of `slowEvery` sleep for `delay`, so that workers finish out of order.
struct FakeDecoder: SampleDecoder {
    var delay: Double = 0
    var slowEvery = 3

    static func imageData(_ number: Int) -> Data { Data("IMG \(number)".utf8) }

    func decode(
        _ data: Data, fileExtension: String, size: Int, random: inout LoaderRandom,
        into pixels: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard let text = String(data: data, encoding: .utf8), text.hasPrefix("IMG "), let number = Int(text.dropFirst(4))
        else { throw FakeDecodeError() }
        let draw = Float(random.unit())
        let plane = size * size
        for index in 0..<plane {
            pixels[index] = Float(number)
            pixels[plane + index] = draw
            pixels[2 * plane + index] = Float(index)
        }
        if delay > 0 && number % slowEvery == 0 { Thread.sleep(forTimeInterval: delay) }
    }
}

/// What is wrong with a sample written by ``writeLoaderShards``.
enum BadSample {
    case noCaption, noImage, undecodable, invalidUTF8, invalidJSON, emptyCaption

    var reason: SkipReason {
        switch self {
        case .noCaption: return .missingCaption
        case .noImage: return .missingImage
        case .undecodable: return .undecodableImage
        case .invalidUTF8: return .invalidUTF8
        case .invalidJSON: return .invalidCaption
        case .emptyCaption: return .emptyCaption
        }
    }
}

func loaderKey(_ index: Int) -> String { String(format: "%06d", index) }

/// Writes samples 0..<count (`IMG i` as png, two captions as json) into shards of `perShard` samples; the indices in
/// `bad` get the given defect. Returns the shard paths in order.
@discardableResult
func writeLoaderShards(
    in directory: String, count: Int, perShard: Int, prefix: String = "shard", bad: [Int: BadSample] = [:]
) throws -> [String] {
    let writer = try ShardWriter(.init(directory: directory, prefix: prefix, samplesPerShard: perShard))
    for index in 0..<count {
        var files: [String: Data] = [
            "png": FakeDecoder.imageData(index),
            "json": try PairRecord(texts: ["caption \(index) first", "caption \(index) second"]).encoded(),
        ]
        switch bad[index] {
        case nil: break
        case .noCaption: files["json"] = nil
        case .noImage: files["png"] = nil
        case .undecodable: files["png"] = Data("BAD".utf8)
        case .invalidUTF8:
            files["json"] = nil
            files["txt"] = Data([0x63, 0xFF, 0xFE, 0x61])
        case .invalidJSON: files["json"] = Data("{\"texts\": [".utf8)
        case .emptyCaption: files["json"] = try PairRecord(texts: ["  ", ""]).encoded()
        }
        try writer.write(Sample(key: loaderKey(index), files: files))
    }
    let index = try writer.finish()
    return index.shards.map { (directory as NSString).appendingPathComponent($0.name) }
}

func loaderConfiguration(
    _ shards: [String], batchSize: Int = 8, workers: Int = 2, seed: UInt64 = 1, epochs: Int? = 1
) -> LoaderConfiguration {
    var configuration = LoaderConfiguration(shards: shards)
    configuration.batchSize = batchSize
    configuration.workerThreads = workers
    configuration.seed = seed
    configuration.epochs = epochs
    configuration.imageSize = 4
    configuration.maxTextLength = 16
    configuration.shuffleBufferSize = 16
    configuration.dropLast = false
    return configuration
}

func makeLoader(
    _ configuration: LoaderConfiguration, cursor: LoaderCursor? = nil, decoder: FakeDecoder = FakeDecoder()
) throws -> DataLoader {
    try DataLoader(configuration: configuration, decoder: decoder, tokenizer: UTF8ByteTokenizer(), resumingFrom: cursor)
}

/// Up to `limit` batches, or all of them.
func collectBatches(_ loader: DataLoader, limit: Int = .max) throws -> [Batch] {
    var batches: [Batch] = []
    while batches.count < limit, let batch = try loader.next() { batches.append(batch) }
    return batches
}

/// Records an issue unless both lists hold the same batches: keys, captions, cursors and tensor values.
func expectSameBatches(
    _ actual: [Batch], _ expected: [Batch], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, b) in zip(actual, expected) {
        #expect(a.keys == b.keys, sourceLocation: sourceLocation)
        #expect(a.captions == b.captions, sourceLocation: sourceLocation)
        #expect(a.cursor.epoch == b.cursor.epoch && a.cursor.position == b.cursor.position,
                sourceLocation: sourceLocation)
        #expect(a.cursor.samplesYielded == b.cursor.samplesYielded, sourceLocation: sourceLocation)
        #expect(try a.images.equals(b.images), sourceLocation: sourceLocation)
        #expect(try a.tokenIDs.equals(b.tokenIDs), sourceLocation: sourceLocation)
        #expect(try a.attentionMask.equals(b.attentionMask), sourceLocation: sourceLocation)
    }
}

/// Runs `body` on another thread and reports whether it finished within `seconds`.
func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.start()
    return done.wait(timeout: .now() + seconds) == .success
}
