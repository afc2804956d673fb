import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

@Suite("Tar archives")
struct TarTests {
    @Test("entries round trip, including empty files, 512-byte multiples and long names")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/a.tar"
            let longName = String(repeating: "d", count: 120) + "/" + String(repeating: "n", count: 90) + ".json"
            let entries = [
                TarEntry(name: "000001.jpg", data: Data([1, 2, 3]), modificationTime: 1_700_000_000),
                TarEntry(name: "000001.json", data: Data()),
                TarEntry(name: "000002.bin", data: Data((0..<1024).map { UInt8($0 % 251) })),
                TarEntry(name: longName, data: Data("长名字".utf8)),
            ]
            let writer = try TarWriter(path: path)
            for entry in entries { try writer.append(entry) }
            try writer.finish()
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            #expect(size % 512 == 0)
            #expect(writer.offset == size)

            let reader = try TarReader(path: path)
            var read: [TarEntry] = []
            while let entry = try reader.next() { read.append(entry) }
            #expect(read == entries)
        }
    }

    @Test("archives written by GNU tar are read, and ours are accepted by GNU tar")
    func interoperatesWithSystemTar() throws {
        try withTemporaryDirectory { directory in
            let tarTool = "/bin/tar"
            guard FileManager.default.isExecutableFile(atPath: tarTool) else {
                Issue.record("GNU tar is needed for this test")
                return
            }
            // A long member name forces GNU tar to write a long-name (L) entry.
            let name = String(repeating: "x", count: 150) + ".txt"
            try Data("hello".utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
            try Data("world".utf8).write(to: URL(fileURLWithPath: directory + "/b.txt"))
            #expect(try runCommand(tarTool, ["-cf", "gnu.tar", name, "b.txt"], in: directory) == 0)
            let reader = try TarReader(path: directory + "/gnu.tar")
            var names: [String: String] = [:]
            while let entry = try reader.next() { names[entry.name] = String(decoding: entry.data, as: UTF8.self) }
            #expect(names == [name: "hello", "b.txt": "world"])

            let ours = try TarWriter(path: directory + "/ours.tar")
            try ours.append(TarEntry(name: "k.txt", data: Data("content".utf8)))
            try ours.finish()
            try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
            #expect(try runCommand(tarTool, ["-xf", "../ours.tar"], in: directory + "/out") == 0)
            #expect(FileManager.default.contents(atPath: directory + "/out/k.txt") == Data("content".utf8))
        }
    }

    @Test("a truncated archive yields its intact entries, then a truncation error with the offset")
    func truncated() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/t.tar"
            let writer = try TarWriter(path: path)
            try writer.append(TarEntry(name: "a.txt", data: Data(repeating: 7, count: 600)))
            try writer.append(TarEntry(name: "b.txt", data: Data(repeating: 8, count: 600)))
            try writer.finish()
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            // Cut inside b.txt's data: header of b starts at 1536, data at 2048.
            try full.prefix(2100).write(to: URL(fileURLWithPath: path))
            let reader = try TarReader(path: path)
            #expect(try reader.next()?.name == "a.txt")
            #expect(throws: DataError.truncatedArchive(file: path, offset: 2100)) { try reader.next() }
        }
    }

    @Test("a corrupt header is reported with its offset")
    func corruptHeader() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/c.tar"
            var bytes = [UInt8](repeating: 0, count: 1024)
            for i in 0..<100 { bytes[i] = UInt8(ascii: "z") }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reader = try TarReader(path: path)
            #expect {
                try reader.next()
            } throws: { error in
                guard case DataError.corruptHeader(let file, let offset, let reason) = error else { return false }
                return file == path && offset == 0 && reason.contains("checksum")
            }
        }
    }

    @Test("names too long for ustar are refused")
    func nameTooLong() throws {
        try withTemporaryDirectory { directory in
            let writer = try TarWriter(path: directory + "/l.tar")
            #expect(throws: DataError.self) {
                try writer.append(TarEntry(name: String(repeating: "a", count: 300), data: Data()))
            }
        }
    }
}

@Suite("Shards")
struct ShardTests {
    func sample(_ index: Int, texts: [String] = ["一只猫"]) throws -> Sample {
        Sample(
            key: String(format: "%06d", index),
            files: ["jpg": Data([0xFF, 0xD8, 0xFF, UInt8(index % 256)]), "json": try PairRecord(texts: texts).encoded()])
    }

    @Test("samples roll over into numbered shards with an index of counts")
    func writeAndRead() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory, prefix: "train", samplesPerShard: 4))
            for i in 0..<10 { try writer.write(try sample(i, texts: ["caption \(i)", "第二句 \(i)"])) }
            let index = try writer.finish()
            #expect(index.shards.map(\.name) == ["train-000000.tar", "train-000001.tar", "train-000002.tar"])
            #expect(index.shards.map(\.samples) == [4, 4, 2])
            #expect(try ShardIndex.read(from: directory + "/train-index.json") == index)
            let found = try ShardIndex.discover(in: directory)
            #expect(found.index == index)

            var keys: [String] = []
            for path in found.paths {
                let reader = try ShardReader(path: path)
                for sample in reader {
                    keys.append(sample.key)
                    let record = try PairRecord.decode(from: sample)
                    #expect(record.texts == ["caption \(Int(sample.key)!)", "第二句 \(Int(sample.key)!)"])
                    #expect(sample.image?.extension == "jpg")
                }
                #expect(reader.error == nil)
            }
            #expect(keys == (0..<10).map { String(format: "%06d", $0) })
            // No temporary files are left behind.
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(!names.contains { $0.hasSuffix(".partial") })
        }
    }

    @Test("a truncated shard yields its complete samples and reports the error")
    func truncatedShard() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory, samplesPerShard: 100))
            for i in 0..<3 { try writer.write(try sample(i)) }
            let index = try writer.finish()
            let path = directory + "/" + index.shards[0].name
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            // Cut into the last sample's json data.
            try full.prefix(full.count - 1024 - 300).write(to: URL(fileURLWithPath: path))
            let reader = try ShardReader(path: path)
            let samples = Array(reader)
            #expect(samples.map(\.key) == ["000000", "000001"])
            #expect(reader.error is DataError)
        }
    }

    @Test("a shard cut inside the next sample's first file still yields the sample before it")
    func truncatedAtSampleBoundary() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory, samplesPerShard: 100))
            for i in 0..<2 { try writer.write(try sample(i)) }
            let index = try writer.finish()
            let path = directory + "/" + index.shards[0].name
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            // Sample 1 starts after sample 0's two entries (2 × 1024 bytes); keep its jpg header and 2 data bytes.
            try full.prefix(2048 + 512 + 2).write(to: URL(fileURLWithPath: path))
            let reader = try ShardReader(path: path)
            let samples = Array(reader)
            #expect(samples.map(\.key) == ["000000"])
            #expect(samples.first?.files.count == 2)
            #expect(reader.error is DataError)
        }
    }

    @Test("a sample with an image but no caption fails to decode its record, with the key")
    func missingCaption() throws {
        let sample = Sample(key: "k1", files: ["jpg": Data([1])])
        #expect(throws: DataError.invalidSample(key: "k1", reason: "no caption (.json or .txt)")) {
            try PairRecord.decode(from: sample)
        }
        let invalidUTF8 = Sample(key: "k2", files: ["txt": Data([0xFF, 0xFE, 0x41])])
        #expect(throws: DataError.self) { try PairRecord.decode(from: invalidUTF8) }
        let textFile = Sample(key: "k3", files: ["txt": Data("第一句\n\nsecond\n".utf8)])
        #expect(try PairRecord.decode(from: textFile).texts == ["第一句", "second"])
    }

    @Test("keys with dots, empty samples and duplicate keys are refused")
    func invalidSamples() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory))
            #expect(throws: DataError.self) { try writer.write(Sample(key: "a.b", files: ["txt": Data()])) }
            #expect(throws: DataError.self) { try writer.write(Sample(key: "a", files: [:])) }
            try writer.write(Sample(key: "a", files: ["txt": Data("x".utf8)]))
            #expect(throws: DataError.self) { try writer.write(Sample(key: "a", files: ["txt": Data("y".utf8)])) }
        }
    }

    @Test("member names split into WebDataset keys and extensions")
    func keySplitting() {
        #expect(Sample.split(name: "dir/000123.jpg")! == ("dir/000123", "jpg"))
        #expect(Sample.split(name: "000123.seg.png")! == ("000123", "seg.png"))
        #expect(Sample.split(name: "README") == nil)
        #expect(Sample.split(name: ".hidden") == nil)
    }
}
