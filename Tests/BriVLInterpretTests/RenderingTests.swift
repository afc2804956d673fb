import Foundation
import Imaging
import Testing
import Torch

@testable import BriVLInterpret

@Suite("Rendering")
struct RenderingTests {
    @Test("a tensor becomes the pixels it describes")
    func tensorToImage() throws {
        // Red plane 1, green 0.5, blue 0 (and one value outside [0, 1], clamped).
        var values = [Float](repeating: 1, count: 4) + [Float](repeating: 0.5, count: 4) + [Float](repeating: 0, count: 4)
        values[8] = -3
        let image = try Rendering.image(from: Tensor(values, shape: [1, 3, 2, 2]))
        #expect(image.width == 2 && image.height == 2)
        #expect(image[0, 0] == Pixel(255, 128, 0))
        #expect(image[1, 1] == Pixel(255, 128, 0))
    }

    @Test("written PNG grids decode with our decoder at the expected size")
    func pngGrid() throws {
        let pictures = try (0..<3).map { seed in
            try Rendering.image(from: Tensor.rand([1, 3, 16, 16], generator: Generator(seed: UInt64(seed))))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Rendering.writePNG(Rendering.grid(pictures, columns: 3, gap: 4), to: path, enlargedBy: 2)
        let decoded = try ImageDecoder.decode(contentsOf: path)
        #expect(decoded.width == (3 * 16 + 2 * 4) * 2 && decoded.height == 16 * 2)
        // The first picture's top-left pixel, repeated 2×2.
        #expect(decoded[1, 1] == pictures[0][0, 0])
        // The gap is white.
        #expect(decoded[16 * 2 + 1, 5] == Pixel.white)
    }

    @Test("a heat map tints only where it is positive")
    func heatMap() throws {
        let grey = try Image(width: 8, height: 8, color: Pixel(100, 100, 100))
        let overlay = try Rendering.heatMapOverlay(grey, map: [[0, 1], [-1, 0]])
        #expect(overlay.width == 8 && overlay.height == 8)
        #expect(overlay[6, 1].red > overlay[1, 1].red)
        #expect(overlay[1, 6] == overlay[1, 1])
        #expect(Rendering.tokenBars([.init(token: "红", score: 0.2), .init(token: "色", score: -0.1)])
            .split(separator: "\n").count == 2)
    }
}
