import Foundation
import Testing

@testable import Imaging

@Suite("Resampling, crops and flips")
struct ResizeTests {
    struct Reference: Decodable {
        struct Source: Decodable {
            var width: Int
            var height: Int
            var pixels: [UInt8]
        }
        struct Case: Decodable {
            var filter: String
            var width: Int
            var height: Int
            var box: [Double]?
            var values: [Double]
        }
        var source: Source
        var cases: [Case]
    }

    /// Written by Tests/Reference/make_resize_references.py.
    static func reference() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Reference/resize_references.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    @Test("Antialiased bilinear and bicubic match the NumPy reference within rounding")
    func referenceValues() throws {
        let reference = try Self.reference()
        let source = try Image(width: reference.source.width, height: reference.source.height, pixels: reference.source.pixels)
        #expect(source == (try Fixture.pattern(width: 13, height: 9)))
        #expect(reference.cases.count == 10)
        for testCase in reference.cases {
            let filter = try #require(ResamplingFilter(rawValue: testCase.filter))
            let box = testCase.box.map { PixelBox(x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]) }
            let result = try source.resampled(box: box, to: ImageSize(width: testCase.width, height: testCase.height), filter: filter)
            var worst = 0.0
            for (index, value) in result.pixels.enumerated() {
                let expected = min(max(testCase.values[index], 0), 255)
                worst = max(worst, abs(Double(value) - expected))
            }
            #expect(worst <= 0.5 + 1e-3, "\(testCase.filter) \(testCase.width)x\(testCase.height) box \(String(describing: box)): off by \(worst)")
        }
    }

    @Test("Constant images stay constant through every filter and scale")
    func constant() throws {
        let color = Pixel(200, 17, 99)
        let image = try Image(width: 37, height: 23, color: color)
        for filter in ResamplingFilter.allCases {
            for size in [ImageSize(width: 5, height: 3), ImageSize(width: 37, height: 23), ImageSize(width: 80, height: 41), ImageSize(width: 1, height: 1), ImageSize(width: 200, height: 2)] {
                for antialias in [true, false] {
                    let result = try image.resized(to: size, filter: filter, antialias: antialias)
                    #expect(result == (try Image(width: size.width, height: size.height, color: color)), "\(filter) \(size) antialias \(antialias)")
                }
            }
            let boxed = try image.resampled(box: PixelBox(x0: 3.25, y0: 1.5, x1: 20.75, y1: 22), to: ImageSize(width: 9, height: 13), filter: filter)
            #expect(boxed == (try Image(width: 9, height: 13, color: color)))
        }
    }

    @Test("Same size is the identity; a whole-pixel box at scale 1 is a crop")
    func identity() throws {
        let image = try Fixture.noise(width: 17, height: 11, seed: 1)
        for filter in ResamplingFilter.allCases {
            #expect(try image.resized(to: image.size, filter: filter) == image)
            #expect(try image.resampled(box: PixelBox(x: 3, y: 2, width: 10, height: 7), to: ImageSize(width: 10, height: 7), filter: filter) == image.cropped(x: 3, y: 2, width: 10, height: 7))
        }
    }

    @Test("Shorter-side sizes follow torchvision's rounding")
    func shorterSide() throws {
        #expect(ImageSize(width: 640, height: 427).scaledToShorterSide(224) == ImageSize(width: 335, height: 224))
        #expect(ImageSize(width: 300, height: 451).scaledToShorterSide(224) == ImageSize(width: 224, height: 336))
        #expect(ImageSize(width: 500, height: 500).scaledToShorterSide(224) == ImageSize(224))
        #expect(ImageSize(width: 1000, height: 10).scaledToLongerSide(100) == ImageSize(width: 100, height: 1))
        let resized = try Fixture.photo(width: 64, height: 40).resized(shorterSide: 20)
        #expect(resized.size == ImageSize(width: 32, height: 20))
    }

    @Test("Shrinking is antialiased: a one-pixel checkerboard becomes flat grey")
    func antialiasing() throws {
        let board = try Image(width: 64, height: 64) { buffer in
            for y in 0..<64 { for x in 0..<64 { for c in 0..<3 { buffer[(y * 64 + x) * 3 + c] = (x + y) % 2 == 0 ? 255 : 0 } } }
        }
        for filter in ResamplingFilter.allCases {
            let small = try board.resized(to: ImageSize(width: 9, height: 9), filter: filter)
            #expect(small.pixels.allSatisfy { abs(Int($0) - 128) <= 16 }, "\(filter): \(small.pixels.prefix(9))")
        }
    }

    @Test("Center crop is exact, and pads like torchvision when larger")
    func centerCrop() throws {
        let image = try Fixture.noise(width: 10, height: 7, seed: 2)
        let crop = try image.centerCropped(to: ImageSize(width: 4, height: 3))
        // Offsets round((10 − 4) / 2) = 3 and round((7 − 3) / 2) = 2.
        #expect(crop == (try image.cropped(x: 3, y: 2, width: 4, height: 3)))
        for y in 0..<3 { for x in 0..<4 { #expect(crop[x, y] == image[x + 3, y + 2]) } }
        // Python rounds halves to even: round(0.5) = 0, round(1.5) = 2.
        #expect(try image.centerCropped(to: ImageSize(width: 9, height: 4)) == image.cropped(x: 0, y: 2, width: 9, height: 4))
        #expect(try image.centerCropped(to: ImageSize(width: 7, height: 7)) == image.cropped(x: 2, y: 0, width: 7, height: 7))
        let padded = try image.centerCropped(to: ImageSize(width: 12, height: 7))
        #expect(padded.size == ImageSize(width: 12, height: 7))
        #expect(padded[0, 3] == .black && padded[11, 3] == .black)
        #expect(padded[1, 3] == image[0, 3] && padded[10, 3] == image[9, 3])
        #expect(throws: ImageError.self) { try image.cropped(x: 8, y: 0, width: 3, height: 1) }
    }

    @Test("Flips are exact and involutive")
    func flips() throws {
        let image = try Fixture.noise(width: 5, height: 3, seed: 3)
        let mirrored = image.flippedHorizontally()
        for y in 0..<3 { for x in 0..<5 { #expect(mirrored[x, y] == image[4 - x, y]) } }
        #expect(mirrored.flippedHorizontally() == image)
        let upsideDown = image.flippedVertically()
        for y in 0..<3 { for x in 0..<5 { #expect(upsideDown[x, y] == image[x, 2 - y]) } }
        #expect(image.oriented(.upMirrored) == mirrored)
        #expect(image.oriented(.downMirrored) == upsideDown)
    }

    @Test("Random resized crop is deterministic for a seed and stays inside the image")
    func randomResizedCrop() throws {
        let parameters = RandomResizedCropParameters()
        let size = ImageSize(width: 640, height: 427)
        var first = SeededRandom(seed: 7), second = SeededRandom(seed: 7), other = SeededRandom(seed: 8)
        var a: [Int] = [], b: [Int] = [], c: [Int] = []
        for _ in 0..<200 {
            let r = parameters.sample(in: size, using: &first)
            let s = parameters.sample(in: size, using: &second)
            let t = parameters.sample(in: size, using: &other)
            a += [r.x, r.y, r.width, r.height]
            b += [s.x, s.y, s.width, s.height]
            c += [t.x, t.y, t.width, t.height]
            #expect(r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0)
            #expect(r.x + r.width <= size.width && r.y + r.height <= size.height)
            let area = Double(r.width * r.height) / Double(size.pixelCount)
            let ratio = Double(r.width) / Double(r.height)
            #expect(area >= 0.08 * 0.97 && area <= 1.0)
            #expect(ratio >= 0.75 * 0.97 && ratio <= 4.0 / 3 * 1.03)
        }
        #expect(a == b)
        #expect(a != c)
        // An extreme aspect ratio falls back to a centred crop with the ratio clamped.
        var random = SeededRandom(seed: 1)
        let strip = RandomResizedCropParameters(scale: 0.99...1.0, ratio: 1.0...1.0).sample(in: ImageSize(width: 100, height: 10), using: &random)
        #expect(strip.width == 10 && strip.height == 10 && strip.x == 45 && strip.y == 0)
        // The image transform is deterministic too.
        let image = try Fixture.photo(width: 120, height: 90)
        let pipeline = try ImagePipeline([.randomResizedCrop(32), .randomHorizontalFlip(probability: 0.5)])
        var g1 = SeededRandom(seed: 99), g2 = SeededRandom(seed: 99)
        for _ in 0..<5 {
            let x = try pipeline.image(from: image, using: &g1)
            let y = try pipeline.image(from: image, using: &g2)
            #expect(x == y)
            #expect(x.size == ImageSize(32))
        }
    }

    @Test("The seeded generator is stable across runs and toolchains")
    func seededRandom() {
        var random = SeededRandom(seed: 0)
        let values = (0..<3).map { _ in random.next() }
        // xoshiro256** seeded by SplitMix64(0) (values from an independent Python implementation): pinned, so
        // augmentations never drift.
        #expect(values == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        var bounded = SeededRandom(seed: 5)
        for _ in 0..<1000 { #expect((0..<7).contains(Draw.below(7, &bounded))) }
    }
}
