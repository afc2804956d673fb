import BriVLInference
import Foundation
import Imaging
import Testing

@Suite("Image preprocessing a run folder records")
struct ImagePreprocessingTests {
    /// A 64×32 picture: its left quarter black, the rest white.
    private func leftQuarterBlack() throws -> Image {
        var pixels: [UInt8] = []
        for _ in 0..<32 {
            for x in 0..<64 { pixels += Array(repeating: x < 16 ? 0 : 255, count: 3) }
        }
        return try Image(width: 64, height: 32, pixels: pixels)
    }

    @Test("square keeps the whole picture, black quarter included; the centre crop cuts it off")
    func squareAgainstCrop() throws {
        let square = try ImagePreprocessing(resize: .square, normalization: .unit).pipeline(size: 16)
            .image(from: leftQuarterBlack())
        #expect(square.width == 16 && square.height == 16)
        // Squeezed 4× across: the black quarter is the first 4 columns.
        #expect(square[1, 8].red < 10 && square[8, 8].red > 245)
        // Shorter side 32 → 16 halves the width to 32, and the middle 16 columns are all white.
        let cropped = try ImagePreprocessing.clipCenterCrop.pipeline(size: 16).image(from: leftQuarterBlack())
        #expect(cropped.width == 16 && cropped.height == 16)
        #expect(cropped[1, 8].red > 245 && cropped[8, 8].red > 245)
    }

    @Test("a run folder without preprocessing.json reads as our runs' preparation; a malformed one is an error")
    func reading() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prep-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try ImagePreprocessing.read(runDirectory: folder) == .clipCenterCrop)
        let path = (folder as NSString).appendingPathComponent(ImagePreprocessing.fileName)
        try Data(#"{"resize": "square", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ImagePreprocessing.read(runDirectory: folder).resize == .square)
        try Data(#"{"resize": "stretch"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: InferenceError.self) { try ImagePreprocessing.read(runDirectory: folder) }
    }
}
