import Foundation
import Testing

@testable import Imaging

@Suite("Corrupt, truncated and hostile input")
struct CorruptInputTests {
    static func files() throws -> [(String, Data)] {
        let photo = try Fixture.photo(width: 96, height: 64)
        return [
            ("baseline JPEG", try ImageEncoder.jpeg(photo)),
            ("progressive JPEG", try ImageEncoder.jpeg(photo, progressive: true)),
            ("PNG", try ImageEncoder.png(photo)),
            ("interlaced PNG", try ImageEncoder.png(photo, interlaced: true)),
            ("lossy WebP", try ImageEncoder.webp(photo)),
            ("lossless WebP", try ImageEncoder.webp(photo, lossless: true)),
        ]
    }

    @Test("Zero bytes is its own error")
    func empty() {
        #expect(throws: ImageError.empty) { try ImageDecoder.decode(data: Data()) }
        #expect(throws: ImageError.empty) { try ImageDecoder.probe(data: [UInt8]()) }
    }

    @Test("Random bytes are an unknown format, and known foreign formats are named")
    func randomBytes() throws {
        var random = SeededRandom(seed: 42)
        for length in [1, 2, 5, 100, 4096] {
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if bytes[0] == 0xFF || bytes[0] == 0x89 || bytes[0] == 0x52 { bytes[0] = 0 }
            #expect {
                try ImageDecoder.decode(data: bytes)
            } throws: { error in
                guard case ImageError.unknownFormat(_, nil) = error else { return false }
                return true
            }
        }
        #expect(throws: ImageError.unknownFormat(signature: "47 49 46 38 39 61 01 00", knownAs: "GIF")) {
            try ImageDecoder.decode(data: Array("GIF89a".utf8) + [1, 0])
        }
    }

    @Test("Truncated files are errors at every cut, never grey-filled images")
    func truncated() throws {
        for (name, data) in try Self.files() {
            let cuts = [1, 2, 3, 7, 11, 20, 40, data.count / 4, data.count / 2, data.count * 3 / 4, data.count - 20]
            for cut in cuts where cut < data.count {
                let prefix = data.prefix(cut)
                do {
                    let image = try ImageDecoder.decode(data: prefix)
                    Issue.record("\(name) cut at \(cut) of \(data.count) decoded to \(image)")
                } catch ImageError.truncated, ImageError.corrupt {
                    // The data ran out (or what remains is inconsistent): either is a refusal.
                }
            }
        }
    }

    @Test("A PNG missing only its IEND chunk has every pixel: it decodes")
    func pngWithoutEnd() throws {
        let image = try Fixture.photo(width: 96, height: 64)
        let png = try ImageEncoder.png(image)
        #expect(try ImageDecoder.decode(data: png.prefix(png.count - 12)) == image)
        #expect(throws: ImageError.self) { try ImageDecoder.decode(data: png.prefix(png.count - 13)) }
    }

    @Test("Premature end of JPEG data is reported as truncation")
    func truncatedJPEGKind() throws {
        let jpeg = try ImageEncoder.jpeg(try Fixture.photo(width: 96, height: 64))
        #expect(throws: ImageError.self) { try ImageDecoder.decode(data: jpeg.prefix(jpeg.count / 2)) }
        do {
            _ = try ImageDecoder.decode(data: jpeg.prefix(jpeg.count / 2))
        } catch ImageError.truncated(let format, let reason) {
            #expect(format == .jpeg)
            #expect(!reason.isEmpty)
        }
        // A file missing only its EOI marker has every pixel: it decodes.
        #expect(try ImageDecoder.decode(data: jpeg.prefix(jpeg.count - 2)).size == ImageSize(width: 96, height: 64))
    }

    @Test("A PNG header claiming 100000x100000 is refused as a decompression bomb")
    func decompressionBomb() throws {
        let bomb = Fixture.pngHeaderOnly(width: 100_000, height: 100_000)
        let info = try ImageDecoder.probe(data: bomb)
        #expect(info.storedSize == ImageSize(width: 100_000, height: 100_000))
        #expect(throws: ImageError.tooLarge(format: .png, width: 100_000, height: 100_000, limit: DecodeOptions.defaultMaxPixels)) {
            try ImageDecoder.decode(data: bomb)
        }
        // The limit is configurable.
        let small = try ImageEncoder.png(try Fixture.photo(width: 40, height: 30))
        #expect(throws: ImageError.tooLarge(format: .png, width: 40, height: 30, limit: 1000)) {
            try ImageDecoder.decode(data: small, options: DecodeOptions(maxPixels: 1000))
        }
        #expect(try ImageDecoder.decode(data: small, options: DecodeOptions(maxPixels: 1200)).size == ImageSize(width: 40, height: 30))
        // A JPEG frame header claiming 60000x60000.
        var jpeg = [UInt8](try ImageEncoder.jpeg(try Fixture.photo(width: 16, height: 16)))
        let frame = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[frame + 5] = 0xEA
        jpeg[frame + 6] = 0x60
        jpeg[frame + 7] = 0xEA
        jpeg[frame + 8] = 0x60
        #expect(throws: ImageError.tooLarge(format: .jpeg, width: 60000, height: 60000, limit: DecodeOptions.defaultMaxPixels)) {
            try ImageDecoder.decode(data: jpeg)
        }
    }

    @Test("Bit flips and garbage never crash: each decode succeeds or throws an ImageError")
    func mutations() throws {
        var random = SeededRandom(seed: 2024)
        for (_, data) in try Self.files() {
            for _ in 0..<60 {
                var bytes = [UInt8](data)
                for _ in 0..<(1 + Draw.below(8, &random)) {
                    // Keep the signature so the decoders, not the sniffer, see the damage.
                    let position = 12 + Draw.below(bytes.count - 12, &random)
                    bytes[position] = UInt8(truncatingIfNeeded: random.next())
                }
                do {
                    let image = try ImageDecoder.decode(data: bytes)
                    #expect(image.width > 0 && image.height > 0)
                } catch is ImageError {
                    // Expected for most mutations.
                }
            }
        }
    }

    @Test("Strict mode turns JPEG corruption warnings into errors")
    func strictJPEG() throws {
        var bytes = [UInt8](try ImageEncoder.jpeg(try Fixture.photo(width: 64, height: 64), quality: 90))
        // Damage the entropy-coded data (after the SOS header) with a stray marker.
        let scan = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        let middle = scan + (bytes.count - scan) / 2
        bytes[middle] = 0xFF
        bytes[middle + 1] = 0xD3
        let lenient = try ImageDecoder.decodeDetailed(data: bytes)
        #expect(lenient.warnings > 0)
        #expect(throws: ImageError.self) { try ImageDecoder.decode(data: bytes, options: DecodeOptions(strict: true)) }
    }

    @Test("Unsupported but valid input is reported as such")
    func unsupported() throws {
        // A lossless JPEG (SOF3) frame.
        var jpeg = [UInt8](try ImageEncoder.jpeg(try Fixture.photo(width: 16, height: 16)))
        let frame = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[frame + 1] = 0xC3
        #expect(throws: ImageError.unsupported(format: .jpeg, reason: "lossless JPEG is not supported")) {
            try ImageDecoder.decode(data: jpeg)
        }
        // A hierarchical (SOF5) frame: libjpeg refuses the process, which is reported as unsupported.
        jpeg[frame + 1] = 0xC5
        #expect {
            try ImageDecoder.decode(data: jpeg)
        } throws: { error in
            guard case ImageError.unsupported(.jpeg, _) = error else { return false }
            return true
        }
    }
}
