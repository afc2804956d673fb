import CImageCodecs
import Foundation
import Testing

@testable import Imaging

@Suite("Codecs: round trips, colour models, header probes")
struct CodecTests {
    static let sizes: [(Int, Int)] = [(1, 1), (7, 5), (16, 16), (33, 17), (640, 427)]

    @Test("PNG round trip is exact", arguments: sizes)
    func pngRoundTrip(width: Int, height: Int) throws {
        let image = try Fixture.noise(width: width, height: height, seed: UInt64(width * 1000 + height))
        let data = try ImageEncoder.png(image)
        #expect(ImageFormat.sniff(data) == .png)
        let decoded = try ImageDecoder.decode(data: data)
        #expect(decoded == image)
        let interlaced = try ImageDecoder.decode(data: ImageEncoder.png(image, compressionLevel: 1, interlaced: true))
        #expect(interlaced == image)
    }

    @Test("JPEG round trip stays within a PSNR bound", arguments: sizes)
    func jpegRoundTrip(width: Int, height: Int) throws {
        let image = try Fixture.photo(width: width, height: height)
        for (quality, subsampling, bound) in [(95, ChromaSubsampling.yuv444, 38.0), (90, .yuv420, 27.0), (75, .yuv422, 28.0)] {
            let data = try ImageEncoder.jpeg(image, quality: quality, subsampling: subsampling)
            #expect(ImageFormat.sniff(data) == .jpeg)
            let decoded = try ImageDecoder.decode(data: data)
            #expect(decoded.size == image.size)
            let psnr = Fixture.psnr(decoded, image)
            #expect(psnr > bound, "q\(quality) \(subsampling) \(width)x\(height): PSNR \(psnr) dB")
        }
        let progressive = try ImageEncoder.jpeg(image, quality: 95, subsampling: .yuv444, progressive: true)
        let info = try ImageDecoder.probe(data: progressive)
        #expect(info.isProgressive)
        #expect(Fixture.psnr(try ImageDecoder.decode(data: progressive), image) > 38)
    }

    @Test("Header probe gives the decoded size, for every format")
    func probeMatchesDecode() throws {
        let image = try Fixture.photo(width: 45, height: 31)
        let files: [(ImageFormat, Data)] = [
            (.jpeg, try ImageEncoder.jpeg(image)), (.png, try ImageEncoder.png(image)),
            (.webp, try ImageEncoder.webp(image)), (.webp, try ImageEncoder.webp(image, lossless: true)),
        ]
        for (format, data) in files {
            let info = try ImageDecoder.probe(data: data)
            #expect(info.format == format)
            #expect(info.storedSize == ImageSize(width: 45, height: 31))
            #expect(info.orientation == .up)
            #expect(try ImageDecoder.decode(data: data).size == info.storedSize)
        }
        #expect(try ImageDecoder.probe(data: ImageEncoder.jpeg(image)).colorModel == .yCbCr)
        #expect(try ImageDecoder.probe(data: ImageEncoder.png(image)).colorModel == .rgb)
    }

    @Test("Grey JPEG and PNG decode to equal channels")
    func greyscale() throws {
        let values = (0..<(20 * 10)).map { UInt8(($0 * 13) % 256) }
        let png = try Fixture.png(samples: values, width: 20, height: 10, color: IC_COLOR_GRAY)
        let decodedPNG = try ImageDecoder.decode(data: png)
        #expect(decodedPNG == (try Image(width: 20, height: 10, grey: values)))
        #expect(try ImageDecoder.probe(data: png).colorModel == .grey)

        let smooth = (0..<(32 * 24)).map { UInt8(($0 % 32) * 8) }
        let jpeg = try Fixture.jpeg(samples: smooth, width: 32, height: 24, components: 1)
        #expect(try ImageDecoder.probe(data: jpeg).colorModel == .grey)
        let decodedJPEG = try ImageDecoder.decode(data: jpeg)
        #expect(Fixture.psnr(decodedJPEG, try Image(width: 32, height: 24, grey: smooth)) > 35)
        decodedJPEG.withUnsafeBufferPointer { pixels in
            for index in stride(from: 0, to: pixels.count, by: 3) {
                #expect(pixels[index] == pixels[index + 1] && pixels[index] == pixels[index + 2])
            }
        }
    }

    @Test("Low bit depth grey PNG expands to full range")
    func lowBitDepthGrey() throws {
        // 1-bit: 0 → 0, 1 → 255; 4-bit: v → v·17.
        let bits: [UInt8] = [0, 1, 1, 0, 1, 0, 0, 1, 1]
        let one = try ImageDecoder.decode(data: Fixture.png(samples: bits, width: 3, height: 3, color: IC_COLOR_GRAY, bitDepth: 1))
        #expect(one == (try Image(width: 3, height: 3, grey: bits.map { $0 * 255 })))
        let nibbles: [UInt8] = (0..<16).map { UInt8($0) }
        let four = try ImageDecoder.decode(data: Fixture.png(samples: nibbles, width: 4, height: 4, color: IC_COLOR_GRAY, bitDepth: 4))
        #expect(four == (try Image(width: 4, height: 4, grey: nibbles.map { $0 * 17 })))
    }

    @Test("RGBA and grey+alpha composite on white, or drop alpha")
    func alpha() throws {
        // Red at alpha 0, 128, 255, and a fully transparent black.
        let rgba: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 128, 255, 0, 0, 255, 0, 0, 0, 0]
        let png = try Fixture.png(samples: rgba, width: 4, height: 1, color: IC_COLOR_RGBA)
        #expect(try ImageDecoder.probe(data: png).hasAlpha)
        let composited = try ImageDecoder.decode(data: png)
        #expect(composited[0, 0] == .white)
        #expect(composited[1, 0] == Pixel(255, 127, 127))  // 255·(255 − 128) / 255 = 127
        #expect(composited[2, 0] == Pixel(255, 0, 0))
        #expect(composited[3, 0] == .white)
        var drop = DecodeOptions()
        drop.alpha = .drop
        let dropped = try ImageDecoder.decode(data: png, options: drop)
        #expect(dropped.pixels == [255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 0])

        let greyAlpha: [UInt8] = [0, 255, 0, 0, 100, 51]
        let grey = try ImageDecoder.decode(data: Fixture.png(samples: greyAlpha, width: 3, height: 1, color: IC_COLOR_GRAY_ALPHA))
        // 100·51/255 + 255·204/255 = 20 + 204 = 224
        #expect(grey.pixels == [0, 0, 0, 255, 255, 255, 224, 224, 224])

        // Interlaced RGBA goes through the whole-image path.
        let interlaced = try Fixture.png(samples: rgba, width: 4, height: 1, color: IC_COLOR_RGBA, interlaced: true)
        #expect(try ImageDecoder.decode(data: interlaced) == composited)
    }

    @Test("16-bit PNG scales to 8 bits with rounding")
    func sixteenBit() throws {
        let values: [UInt16] = [0, 65535, 257, 32767, 32768, 128, 1000, 40000, 65000, 12345, 54321, 7]
        let rgb = try Fixture.png(samples: Fixture.bytes16(values), width: 4, height: 1, color: IC_COLOR_RGB, bitDepth: 16)
        #expect(try ImageDecoder.probe(data: rgb).bitDepth == 16)
        let decoded = try ImageDecoder.decode(data: rgb)
        for (index, value) in values.enumerated() {
            let expected = (Double(value) * 255 / 65535).rounded()
            #expect(abs(Double(decoded.pixels[index]) - expected) <= 0.5, "sample \(value) → \(decoded.pixels[index])")
        }
        let grey = try Fixture.png(samples: Fixture.bytes16([0, 65535, 32896, 514]), width: 2, height: 2, color: IC_COLOR_GRAY, bitDepth: 16)
        #expect(try ImageDecoder.decode(data: grey).pixels == [0, 0, 0, 255, 255, 255, 128, 128, 128, 2, 2, 2])
        let rgba16: [UInt16] = [65535, 0, 0, 32896, 0, 0, 65535, 65535]
        let alpha = try ImageDecoder.decode(
            data: Fixture.png(samples: Fixture.bytes16(rgba16), width: 2, height: 1, color: IC_COLOR_RGBA, bitDepth: 16))
        #expect(alpha.pixels == [255, 127, 127, 0, 0, 255])
    }

    @Test("Palette PNG, with and without transparency, at 2 and 8 bits")
    func palette() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let indices: [UInt8] = [0, 1, 2, 3, 3, 2, 1, 0]
        let expected = indices.flatMap { Array(palette[Int($0) * 3..<Int($0) * 3 + 3]) }
        for depth in [2, 8] {
            let png = try Fixture.png(samples: indices, width: 4, height: 2, color: IC_COLOR_PALETTE, bitDepth: depth, palette: palette)
            let info = try ImageDecoder.probe(data: png)
            #expect(info.colorModel == .palette && !info.hasAlpha)
            #expect(try ImageDecoder.decode(data: png).pixels == expected)
        }
        // Entry 1 fully transparent, entry 2 half.
        let transparent = try Fixture.png(
            samples: indices, width: 4, height: 2, color: IC_COLOR_PALETTE, palette: palette, transparency: [255, 0, 128])
        #expect(try ImageDecoder.probe(data: transparent).hasAlpha)
        let decoded = try ImageDecoder.decode(data: transparent)
        #expect(decoded[0, 0] == Pixel(255, 0, 0))
        #expect(decoded[1, 0] == .white)
        #expect(decoded[2, 0] == Pixel(127, 127, 255))
        #expect(decoded[3, 0] == Pixel(10, 20, 30))
    }

    @Test("CMYK and YCCK JPEGs (Adobe inverted) decode to the right colours")
    func cmyk() throws {
        // Ink amounts (C, M, Y, K) → expected RGB = 255·(1 − ink)(1 − K). Adobe files store 255 − ink.
        let inks: [[(UInt8, UInt8, UInt8, UInt8)]] = [
            [(0, 255, 255, 0), (255, 0, 255, 0), (255, 255, 0, 0)],
            [(0, 0, 0, 0), (0, 0, 0, 128), (0, 0, 0, 255)],
        ]
        let expected: [[Pixel]] = [
            [Pixel(255, 0, 0), Pixel(0, 255, 0), Pixel(0, 0, 255)],
            [Pixel(255, 255, 255), Pixel(127, 127, 127), Pixel(0, 0, 0)],
        ]
        let block = 16
        var samples = [UInt8](repeating: 0, count: 3 * block * 2 * block * 4)
        for y in 0..<(2 * block) {
            for x in 0..<(3 * block) {
                let (c, m, yellow, k) = inks[y / block][x / block]
                let offset = (y * 3 * block + x) * 4
                samples[offset] = 255 - c
                samples[offset + 1] = 255 - m
                samples[offset + 2] = 255 - yellow
                samples[offset + 3] = 255 - k
            }
        }
        for ycck in [false, true] {
            let jpeg = try Fixture.jpeg(samples: samples, width: 3 * block, height: 2 * block, components: 4, quality: 98, ycck: ycck)
            let info = try ImageDecoder.probe(data: jpeg)
            #expect(info.colorModel == (ycck ? .ycck : .cmyk))
            let decoded = try ImageDecoder.decode(data: jpeg)
            Fixture.expectBlocks(decoded, expected, block: block, tolerance: 6, ycck ? "YCCK" : "CMYK")
        }
    }

    @Test("WebP lossless is exact, lossy is close, alpha composites")
    func webp() throws {
        let image = try Fixture.noise(width: 23, height: 11, seed: 5)
        let lossless = try ImageEncoder.webp(image, lossless: true)
        #expect(ImageFormat.sniff(lossless) == .webp)
        #expect(try ImageDecoder.decode(data: lossless) == image)
        let photo = try Fixture.photo(width: 64, height: 48)
        let lossy = try ImageDecoder.decode(data: ImageEncoder.webp(photo, quality: 95))
        #expect(Fixture.psnr(lossy, photo) > 30)

        let rgba: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255, 9, 9, 9, 0]
        let data = try Fixture.webp(rgba: rgba, width: 2, height: 2, lossless: true)
        #expect(try ImageDecoder.probe(data: data).hasAlpha)
        #expect(try ImageDecoder.decode(data: data).pixels == [255, 255, 255, 255, 127, 127, 0, 0, 255, 255, 255, 255])
        var drop = DecodeOptions()
        drop.alpha = .drop
        #expect(try ImageDecoder.decode(data: data, options: drop)[0, 1] == Pixel(0, 0, 255))
    }

    @Test("JPEG DCT scaling decodes smaller but covers the requested size")
    func dctScaling() throws {
        let image = try Fixture.photo(width: 800, height: 600)
        let jpeg = try ImageEncoder.jpeg(image, quality: 92)
        for (minimum, expectedScale) in [(ImageSize(width: 200, height: 150), 2), (ImageSize(width: 224, height: 224), 3), (ImageSize(width: 401, height: 10), 5), (ImageSize(width: 900, height: 10), 8)] {
            var options = DecodeOptions()
            options.minimumSize = minimum
            options.dctScaling = .anyEighth
            let decoded = try ImageDecoder.decodeDetailed(data: jpeg, options: options)
            #expect(decoded.dctScale == expectedScale, "minimum \(minimum)")
            #expect(decoded.image.width >= minimum.width || decoded.dctScale == 8)
            #expect(decoded.image.height >= minimum.height || decoded.dctScale == 8)
            #expect(decoded.image.width == (800 * expectedScale + 7) / 8)
            // A reduced decode is a faithful small version of the picture.
            let reference = try image.resized(to: decoded.image.size, filter: .bilinear)
            #expect(Fixture.psnr(decoded.image, reference) > 28, "scale \(expectedScale)/8")
        }
        var powerOfTwo = DecodeOptions()
        powerOfTwo.minimumSize = ImageSize(224)
        #expect(powerOfTwo.dctScaling == .powerOfTwo)
        #expect(try ImageDecoder.decodeDetailed(data: jpeg, options: powerOfTwo).dctScale == 4)
        powerOfTwo.dctScaling = .disabled
        #expect(try ImageDecoder.decodeDetailed(data: jpeg, options: powerOfTwo).dctScale == 8)
        // PNG ignores the hint.
        var hinted = DecodeOptions()
        hinted.minimumSize = ImageSize(10)
        #expect(try ImageDecoder.decode(data: ImageEncoder.png(image), options: hinted).size == image.size)
    }

    @Test("Format comes from the bytes: a PNG named .jpg decodes as PNG")
    func wrongExtension() throws {
        let image = try Fixture.noise(width: 9, height: 4, seed: 9)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("really-a-png.jpg").path
        try ImageEncoder.png(image).write(to: URL(fileURLWithPath: path))
        #expect(try ImageDecoder.decode(contentsOf: path) == image)
        let webpPath = directory.appendingPathComponent("really-a-webp.png").path
        try ImageEncoder.webp(image, lossless: true).write(to: URL(fileURLWithPath: webpPath))
        #expect(try ImageDecoder.decode(contentsOf: webpPath) == image)
        #expect(throws: ImageError.self) { try ImageDecoder.decode(contentsOf: directory.appendingPathComponent("missing.jpg").path) }
    }

    @Test("Encoders reject invalid arguments")
    func encoderArguments() throws {
        let image = try Fixture.photo(width: 4, height: 4)
        #expect(throws: ImageError.self) { try ImageEncoder.jpeg(image, quality: 0) }
        #expect(throws: ImageError.self) { try ImageEncoder.png(image, compressionLevel: 11) }
        #expect(throws: ImageError.self) { try Image(width: 2, height: 2, pixels: [1, 2, 3]) }
        #expect(throws: ImageError.self) { try Image(width: 0, height: 2, pixels: []) }
    }
}
