import FileTestSupport
import Foundation
import Imaging
import Testing

@testable import BriVLData

@Suite("Cleaning: real image codec")
struct CleanImagingTests {
    static func photo(width: Int, height: Int) throws -> Image {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8((x * 255) / max(1, width - 1))
                pixels[offset + 1] = UInt8((y * 255) / max(1, height - 1))
                pixels[offset + 2] = UInt8(((x / 16 + y / 16) % 2) * 200)
            }
        }
        return try Image(width: width, height: height, pixels: pixels)
    }

    @Test("decodes, re-encodes and rejects truncated, corrupt and wrong-format images with reasons")
    func realImages() throws {
        let codec = ImagingCleaningCodec()
        let jpeg = try ImageEncoder.jpeg(try Self.photo(width: 320, height: 280), quality: 95)
        let png = try ImageEncoder.png(try Self.photo(width: 300, height: 300))
        #expect(try codec.probe(jpeg) == ImageProbe(format: .jpeg, width: 320, height: 280))
        let reencoded = try #require(try codec.verify(jpeg, reencodingAsJPEG: 70))
        #expect(reencoded.count < jpeg.count)
        #expect(try codec.probe(reencoded).width == 320)
        #expect(try codec.verify(png, reencodingAsJPEG: nil) == nil)
        #expect(throws: ImageProblem.self) { try codec.verify(jpeg.prefix(jpeg.count / 2), reencodingAsJPEG: 90) }
        #expect(throws: ImageProblem.self) { try codec.probe(Data()) }
        #expect(throws: ImageProblem.self) { try codec.probe(Data("GIF89a......".utf8)) }

        try withTemporaryDirectory { directory in
            try CleanFixtures.writeShard(
                [Sample(key: "jpeg", files: ["jpg": jpeg, "json": CleanFixtures.record(["渐变的方格图案"])]),
                 Sample(key: "pngasjpg", files: ["jpg": png, "json": CleanFixtures.record(["方格"])]),
                 Sample(key: "cut", files: ["jpg": jpeg.prefix(jpeg.count / 2), "json": CleanFixtures.record(["半张图"])]),
                 Sample(key: "zero", files: ["jpg": Data(), "json": CleanFixtures.record(["空图"])])],
                to: directory + "/s.tar")
            let report = try CleanFixtures.run([directory + "/s.tar"], output: directory + "/out", codec: codec)
            #expect(report.totals.kept == 2 && report.totals.imagesReencoded == 2)
            #expect(report.totals.droppedBy[.undecodableImage] == 2)
            let kept = try CleanFixtures.readOutputs(directory + "/out", "cleaned")
            for sample in kept {
                let data = try #require(sample.files["jpg"])
                #expect(ImageFormat.sniff(data) == .jpeg)
                #expect(try ImageDecoder.decode(data: data).width >= 280)
            }
            let rejected = try CleanFixtures.readOutputs(directory + "/out", "rejects")
            let cut = try CleanFixtures.record(of: try #require(rejected.first { $0.key == "cut" }))
            #expect(cut.metadata?["reject_detail"]?.contains("truncated") == true)
        }
    }
}
