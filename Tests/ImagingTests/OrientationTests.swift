import Foundation
import Testing

@testable import Imaging

@Suite("EXIF orientation")
struct OrientationTests {
    /// The upright grid for each orientation, written as the EXIF specification describes the stored picture
    /// (independently of the implementation's index walk).
    static func upright(_ grid: [[Pixel]], _ orientation: Int) -> [[Pixel]] {
        func mirrored(_ g: [[Pixel]]) -> [[Pixel]] { g.map { Array($0.reversed()) } }
        func flipped(_ g: [[Pixel]]) -> [[Pixel]] { Array(g.reversed()) }
        // Rotating clockwise by 90°: the new first row is the old first column read bottom-up.
        func clockwise(_ g: [[Pixel]]) -> [[Pixel]] {
            (0..<g[0].count).map { c in (0..<g.count).reversed().map { r in g[r][c] } }
        }
        // The cases read as exiftool names them ("mirror horizontal and rotate 90 CW", ...).
        switch orientation {
        case 1: return grid
        case 2: return mirrored(grid)  // stored mirrored left-right
        case 3: return flipped(mirrored(grid))  // stored upside down: turn 180°
        case 4: return flipped(grid)  // stored mirrored top-bottom
        case 5: return clockwise(clockwise(clockwise(mirrored(grid))))  // mirror horizontal, rotate 270° CW
        case 6: return clockwise(grid)  // display needs a 90° clockwise turn
        case 7: return clockwise(mirrored(grid))  // mirror horizontal, rotate 90° CW
        default: return clockwise(clockwise(clockwise(grid)))  // 8: a 90° counter-clockwise turn
        }
    }

    @Test("JPEG APP1 Exif orientations 1–8 give upright pixels", arguments: 1...8)
    func jpegOrientation(orientation: Int) throws {
        let block = 16
        let stored = try Fixture.blocks(Fixture.sixColors, block: block)
        let plain = try ImageEncoder.jpeg(stored, quality: 95, subsampling: .yuv444)
        for bigEndian in [true, false] {
            let jpeg = Fixture.injectingExif(into: plain, orientation: orientation, bigEndian: bigEndian)
            let info = try ImageDecoder.probe(data: jpeg)
            #expect(info.orientation.rawValue == orientation)
            #expect(info.uprightSize == (orientation >= 5 ? stored.size.transposed : stored.size))
            let decoded = try ImageDecoder.decode(data: jpeg)
            Fixture.expectBlocks(decoded, Self.upright(Fixture.sixColors, orientation), block: block, tolerance: 8, "orientation \(orientation)")
            var keep = DecodeOptions()
            keep.applyExifOrientation = false
            Fixture.expectBlocks(try ImageDecoder.decode(data: jpeg, options: keep), Fixture.sixColors, block: block, tolerance: 8, "unapplied")
        }
    }

    @Test("PNG eXIf orientations are exact and match Image.oriented", arguments: 1...8)
    func pngOrientation(orientation: Int) throws {
        let stored = try Fixture.noise(width: 5, height: 3, seed: 77)
        let png = Fixture.insertingChunk(
            into: try ImageEncoder.png(stored), type: "eXIf", data: Fixture.exifTIFF(orientation: orientation, bigEndian: false))
        let decoded = try ImageDecoder.decode(data: png)
        let expected = try ImageDecoder.decode(data: png, options: DecodeOptions(applyExifOrientation: false))
            .oriented(ExifOrientation(rawValue: orientation)!)
        #expect(decoded == expected)
        // Pixel by pixel against the grid definition.
        let grid = (0..<3).map { y in (0..<5).map { x in stored[x, y] } }
        let upright = Self.upright(grid, orientation)
        #expect(decoded.height == upright.count && decoded.width == upright[0].count)
        for (y, row) in upright.enumerated() {
            for (x, pixel) in row.enumerated() { #expect(decoded[x, y] == pixel) }
        }
    }

    @Test("WebP EXIF chunk orientation is read")
    func webpOrientation() throws {
        let stored = try Fixture.noise(width: 6, height: 4, seed: 3)
        let plain = [UInt8](try ImageEncoder.webp(stored, lossless: true))
        // Rewrap as an extended (VP8X) file with an EXIF chunk after the image data.
        let exif = Fixture.exifTIFF(orientation: 6, bigEndian: true)
        let imageChunk = Array(plain[12...])
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)] }
        func le24(_ v: Int) -> [UInt8] { Array(le32(v).prefix(3)) }
        let vp8x = Array("VP8X".utf8) + le32(10) + [0x08, 0, 0, 0] + le24(6 - 1) + le24(4 - 1)
        var exifChunk = Array("EXIF".utf8) + le32(exif.count) + exif
        if exif.count % 2 == 1 { exifChunk.append(0) }
        let body = Array("WEBP".utf8) + vp8x + imageChunk + exifChunk
        let file = Data(Array("RIFF".utf8) + le32(body.count) + body)
        let info = try ImageDecoder.probe(data: file)
        #expect(info.orientation == .right)
        #expect(try ImageDecoder.decode(data: file) == stored.oriented(.right))
    }

    @Test("Invalid orientation values count as upright")
    func invalidOrientation() throws {
        let plain = try ImageEncoder.jpeg(try Fixture.photo(width: 8, height: 4))
        for value in [0, 9, 300] {
            #expect(try ImageDecoder.probe(data: Fixture.injectingExif(into: plain, orientation: value)).orientation == .up)
        }
    }
}
