import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

@Suite("Dataset inspection")
struct InspectionTests {
    @Test("counts samples, layouts, captions and shard errors; histograms bucket by powers of two")
    func summary() throws {
        try withTemporaryDirectory { directory in
            let writer = try ShardWriter(.init(directory: directory, samplesPerShard: 3))
            for i in 0..<5 {
                let texts = i == 4 ? ["english only", "中文"] : ["第\(i)张"]
                try writer.write(
                    Sample(key: "k\(i)", files: ["jpg": Data(count: 100 * (i + 1)), "json": try PairRecord(texts: texts).encoded()]))
            }
            try writer.write(Sample(key: "k5", files: ["jpg": Data(count: 10)]))
            try writer.finish()
            let inspector = DatasetInspector(exampleCount: 2, seed: 1) { data in (data.count, 2 * data.count) }
            let summary = try inspector.inspect(directory: directory)
            #expect(summary.shards == 2)
            #expect(summary.samples == 6)
            #expect(summary.layouts == ["jpg+json": 5, "jpg": 1])
            #expect(summary.samplesWithoutCaption == 1)
            #expect(summary.captions == 6)
            #expect(summary.captionsWithChinese == 5)
            #expect(summary.imageBytes.count == 6)
            #expect(summary.imageBytes.minimum == 10 && summary.imageBytes.maximum == 500)
            #expect(summary.imageHeights.maximum == 1000)
            #expect(summary.exampleCaptions.count == 2)
            // 100, 200 → buckets 6 and 7; 300, 400, 500 → 8; 10 → 3.
            #expect(summary.imageBytes.buckets == [3: 1, 6: 1, 7: 1, 8: 3])
        }
    }
}
