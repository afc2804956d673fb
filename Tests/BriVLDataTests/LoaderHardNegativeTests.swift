import FileTestSupport
import Foundation
import Testing
import Torch

@testable import BriVLData

/// Refuses captions starting with "unreadable", like a tokenizer meeting text it cannot encode.
private struct PickyTokenizer: CaptionTokenizer {
    struct Refused: Error {}
    var paddingID: Int { 0 }
    func tokenIDs(for text: String, maxLength: Int) throws -> [Int] {
        if text.hasPrefix("unreadable") { throw Refused() }
        return try UTF8ByteTokenizer().tokenIDs(for: text, maxLength: maxLength)
    }
}

/// Samples 0..<count with two captions each. Every third sample has no hard negatives; sample 4's only foil is its
/// own other caption (not a negative, so unusable); samples 7 and 13 have a foil the tokenizer refuses; the others
/// have foils "foil <i> a|b" of the first caption and "foil <i> c" of the second.
private func writeShards(in directory: String, count: Int) throws -> [String] {
    let writer = try ShardWriter(.init(directory: directory, prefix: "shard", samplesPerShard: 5))
    for index in 0..<count {
        let first = "caption \(index) first", second = "caption \(index) second"
        var negatives: [String: [String]]? = [first: ["foil \(index) a", "foil \(index) b"], second: ["foil \(index) c"]]
        if index % 3 == 0 { negatives = nil }
        if index == 4 { negatives = [first: [second], second: [first]] }
        if index == 7 || index == 13 { negatives = [first: ["unreadable \(index)"], second: ["unreadable \(index)"]] }
        let record = PairRecord(texts: [first, second], hardNegatives: negatives)
        try writer.write(
            Sample(key: loaderKey(index), files: ["png": FakeDecoder.imageData(index), "json": try record.encoded()]))
    }
    return try writer.finish().shards.map { (directory as NSString).appendingPathComponent($0.name) }
}

/// The foils sample `index` may bring with `caption`.
private func expectedFoils(_ index: Int, _ caption: String) -> [String] {
    if index % 3 == 0 || index == 4 || index == 7 || index == 13 { return [] }
    return caption.hasSuffix("first") ? ["foil \(index) a", "foil \(index) b"] : ["foil \(index) c"]
}

private func padded(_ text: String, _ length: Int) throws -> [Int64] {
    let ids = try UTF8ByteTokenizer().tokenIDs(for: text, maxLength: length).map(Int64.init)
    return ids + Array(repeating: 0, count: length - ids.count)
}

@Suite("Loader: hard negatives")
struct LoaderHardNegativeTests {
    @Test("each sample brings one foil of its own caption; captions and order are those of a loader without them")
    func foilsFollowTheirCaptions() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeShards(in: directory, count: 30)
            var configuration = loaderConfiguration(shards, batchSize: 8, workers: 2, epochs: 2)
            let plain = try collectBatches(try makeLoader(configuration, tokenizerOverride: PickyTokenizer()))
            configuration.hardNegatives = true
            let loader = try makeLoader(configuration, tokenizerOverride: PickyTokenizer())
            let batches = try collectBatches(loader)

            #expect(batches.map(\.keys) == plain.map(\.keys))
            #expect(batches.map(\.captions) == plain.map(\.captions))
            #expect(plain.allSatisfy { $0.hardNegatives == nil })
            var drawn: Set<String> = []
            var total = 0
            for batch in batches {
                let rowsWithFoils = batch.keys.indices.filter { !expectedFoils(Int(batch.keys[$0])!, batch.captions[$0]).isEmpty }
                guard let negatives = batch.hardNegatives else {
                    #expect(rowsWithFoils.isEmpty)
                    continue
                }
                #expect(negatives.owners == rowsWithFoils)
                #expect(negatives.tokenIDs.shape == [negatives.count, 16])
                let ids = try negatives.tokenIDs.toArray(Int64.self)
                let mask = try negatives.attentionMask.toArray(Int64.self)
                for (slot, row) in negatives.owners.enumerated() {
                    let candidates = expectedFoils(Int(batch.keys[row])!, batch.captions[row])
                    let rowIDs = Array(ids[(slot * 16)..<(slot * 16 + 16)])
                    let match = try candidates.first { try padded($0, 16) == rowIDs }
                    #expect(match != nil, "row \(row) of batch \(batch.keys) got a foil of another caption")
                    if let match { drawn.insert(match) }
                    #expect(Array(mask[(slot * 16)..<(slot * 16 + 16)]) == rowIDs.map { $0 == 0 ? 0 : 1 })
                }
                total += negatives.count
            }
            // Both foils of a first caption get drawn somewhere over two epochs.
            #expect(drawn.contains { $0.hasSuffix(" a") } && drawn.contains { $0.hasSuffix(" b") })
            let statistics = loader.statistics
            #expect(statistics.hardNegativesYielded == total)
            // Samples 7 and 13, once per epoch: counted, and used without a foil.
            #expect(statistics.hardNegativesUnusable == 4)
            #expect(statistics.samplesYielded == 60)
        }
    }

    @Test("the foils drawn are the same with 1 and 3 workers")
    func foilsAreDeterministic() throws {
        try withTemporaryDirectory { directory in
            let shards = try writeShards(in: directory, count: 30)
            var configuration = loaderConfiguration(shards, batchSize: 8, workers: 1)
            configuration.hardNegatives = true
            let single = try collectBatches(try makeLoader(configuration, tokenizerOverride: PickyTokenizer()))
            configuration.workerThreads = 3
            let parallel = try collectBatches(try makeLoader(configuration, tokenizerOverride: PickyTokenizer()))
            #expect(single.count == parallel.count)
            for (a, b) in zip(single, parallel) {
                #expect(a.hardNegatives?.owners == b.hardNegatives?.owners)
                #expect(try a.hardNegatives?.tokenIDs.toArray(Int64.self) == b.hardNegatives?.tokenIDs.toArray(Int64.self))
            }
            #expect(single.contains { $0.hardNegatives != nil })
        }
    }

    @Test("a record's hard negatives: only foils of that caption, never one of the record's own captions")
    func recordLookup() throws {
        let record = PairRecord(
            texts: ["a red dress", "a dress"],
            hardNegatives: ["a red dress": ["a blue dress", "a dress", " ", "a blue dress", "a red shirt"]])
        #expect(record.hardNegatives(of: "a red dress") == ["a blue dress", "a red shirt"])
        #expect(record.hardNegatives(of: "a dress").isEmpty)
        let decoded = try JSONDecoder().decode(PairRecord.self, from: record.encoded())
        #expect(decoded == record)
        #expect(String(decoding: try record.encoded(), as: UTF8.self).contains("\"hard_negatives\""))
    }
}
