import Foundation
import Testing

@testable import BriVLData

extension LoaderRandom {
    /// A uniformly chosen element, for building test corpora.
    mutating func element<T>(_ array: [T]) -> T { array[below(array.count)] }
}

/// Structurally valid image files (headers, segments, end markers) with arbitrary compressed bytes: enough for
/// ``StructuralImageCodec``; `payload` varies the bytes so two images of one size can differ.
enum CleanFixtures {
    static func jpeg(width: Int, height: Int, payload: UInt8 = 7) -> Data {
        var bytes: [UInt8] = [0xFF, 0xD8]
        func segment(_ marker: UInt8, _ body: [UInt8]) {
            bytes += [0xFF, marker, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body
        }
        segment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
        segment(0xC0, [8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 1, 1, 0x11, 0])
        segment(0xC4, [0] + [UInt8](repeating: 0, count: 15) + [1])
        segment(0xDA, [1, 1, 0, 0, 63, 0])
        bytes += (0..<200).map { UInt8(($0 * 31 + Int(payload)) % 250) } + [0xFF, 0x00, 0x12]
        bytes += [0xFF, 0xD9]
        return Data(bytes)
    }

    static func png(width: Int, height: Int) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in typed {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            crc ^= 0xFFFF_FFFF
            func be(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
            return be(UInt32(body.count)) + typed + be(crc)
        }
        func be(_ value: Int) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += chunk("IHDR", be(width) + be(height) + [8, 2, 0, 0, 0])
        bytes += chunk("IDAT", [0x78, 0x9C, 1, 2, 3, 4])
        bytes += chunk("IEND", [])
        return Data(bytes)
    }

    static func record(_ texts: [String], metadata: [String: String]? = nil) -> Data {
        try! PairRecord(texts: texts, metadata: metadata).encoded()
    }

    /// A good pair: 300×300 JPEG (payload varies the bytes) and a Chinese caption.
    static func pair(_ key: String, _ text: String, payload: UInt8 = 7, width: Int = 300, height: Int = 300) -> Sample {
        Sample(key: key, files: ["jpg": jpeg(width: width, height: height, payload: payload), "json": record([text])])
    }

    /// Writes samples into a tar in the given order (files of a sample in extension order).
    static func writeShard(_ samples: [Sample], to path: String) throws {
        let writer = try TarWriter(path: path)
        for sample in samples {
            for fileExtension in sample.files.keys.sorted() {
                try writer.append(TarEntry(name: "\(sample.key).\(fileExtension)", data: sample.files[fileExtension]!))
            }
        }
        try writer.finish()
    }

    /// Every sample of a shard (empty when the file does not exist).
    static func readShard(_ path: String) throws -> [Sample] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return Array(try ShardReader(path: path))
    }

    /// All samples of a run's cleaned/ or rejects/ folder, in shard order.
    static func readOutputs(_ directory: String, _ folder: String) throws -> [Sample] {
        let path = (directory as NSString).appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".tar") }.sorted()
        return try names.flatMap { try readShard((path as NSString).appendingPathComponent($0)) }
    }

    static func record(of sample: Sample) throws -> PairRecord {
        try JSONDecoder().decode(PairRecord.self, from: sample.files["json"]!)
    }

    /// The default test configuration: Chinese, default image rules, no re-encoding (the structural codec cannot).
    static func configuration(language: LanguagePolicy = .zh) -> CleaningConfiguration {
        CleaningConfiguration(text: .init(language: language))
    }

    static func run(
        _ inputs: [String], output: String, configuration: CleaningConfiguration = configuration(),
        lexicons: TextLexicons = TextLexicons(), codec: any CleaningImageCodec = StructuralImageCodec(),
        scorer: (any RelevanceScorer)? = nil, workers: Int = 1, interruptAfter: Int? = nil,
        progress: (@Sendable (CleaningProgress) -> Void)? = nil
    ) throws -> CleaningReport {
        var options = CleaningRunOptions(inputs: inputs, outputDirectory: output, workers: workers, scoringBatchSize: 5)
        options.interruptAfterSamples = interruptAfter
        let run = try CleaningRun(
            configuration: configuration, lexicons: lexicons, codec: codec, scorer: scorer, options: options)
        return try run.run(progress: progress)
    }
}

/// A codec that re-encodes by returning the structural codec's verdict plus a marker, to count re-encodes without
/// pixels.
struct MarkingReencoder: CleaningImageCodec {
    var identifier: String { "marking-test" }

    func probe(_ data: Data) throws -> ImageProbe { try StructuralImageCodec().probe(data) }

    func verify(_ data: Data, reencodingAsJPEG jpegQuality: Int?) throws -> Data? {
        _ = try StructuralImageCodec().verify(data, reencodingAsJPEG: nil)
        guard let jpegQuality else { return nil }
        return CleanFixtures.jpeg(width: 300, height: 300, payload: UInt8(jpegQuality)) + data.prefix(4)
    }
}

/// A relevance scorer for tests: the score is looked up by caption, default 0.9.
struct TableScorer: RelevanceScorer {
    var table: [String: Float]
    var identifier: String { "table-test" }

    func score(image: Data, text: String) throws -> Float { table[text] ?? 0.9 }
}
