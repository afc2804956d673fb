import Foundation
import Testing
import Torch

@testable import Imaging

@Suite("Tensor conversion and pipelines")
struct TensorAndPipelineTests {
    @Test("toTensor gives [3, H, W] planes normalised per channel")
    func tensorValues() throws {
        let image = try Image(width: 3, height: 2, pixels: [
            0, 128, 255, 10, 20, 30, 40, 50, 60,
            255, 255, 255, 0, 0, 0, 1, 2, 3,
        ])
        let tensor = try image.tensor(normalization: .clip)
        #expect(tensor.shape == [3, 2, 3])
        #expect(tensor.dtype == .float32)
        let values = try tensor.toArray(Float.self)
        let mean: [Float] = [0.48145466, 0.4578275, 0.40821073], std: [Float] = [0.26862954, 0.26130258, 0.27577711]
        for channel in 0..<3 {
            for y in 0..<2 {
                for x in 0..<3 {
                    let byte = image.pixels[(y * 3 + x) * 3 + channel]
                    let expected = (Float(byte) / 255 - mean[channel]) / std[channel]
                    #expect(abs(values[channel * 6 + y * 3 + x] - expected) < 1e-6)
                }
            }
        }
        // Spot values: red 0 → −mean/std; blue 255 → (1 − mean)/std.
        #expect(abs(values[0] - (-0.48145466 / 0.26862954)) < 1e-5)
        #expect(abs(values[12] - ((1 - 0.40821073) / 0.27577711)) < 1e-5)
        let unit = try image.tensor(normalization: .unit).toArray(Float.self)
        #expect(unit[1] == 10.0 / 255 && unit[6 + 2] == 50.0 / 255)
        #expect(throws: ImageError.self) {
            try image.tensor(normalization: Normalization(mean: SIMD3(0, 0, 0), std: SIMD3(1, 0, 1)))
        }
    }

    @Test("Fused resize + center crop equals resizing everything then cropping")
    func fusedEqualsSequential() throws {
        let image = try Fixture.photo(width: 157, height: 93)
        for filter in [ResamplingFilter.bilinear, .bicubic] {
            let pipeline = try ImagePipeline([.resize(shorter: 40, filter: filter), .centerCrop(40)])
            let fused = try pipeline.image(from: image)
            let sequential = try image.resized(shorterSide: 40, filter: filter).centerCropped(40)
            #expect(fused.size == ImageSize(40))
            #expect(Fixture.maxDifference(fused, sequential) <= 1, "\(filter)")
        }
        // Crop, flip, resize, crop again: still one resampling, same pixels as step by step.
        let steps: [ImageTransform] = [.centerCrop(ImageSize(width: 120, height: 90)), .horizontalFlip, .resize(to: ImageSize(width: 60, height: 45)), .centerCrop(ImageSize(width: 30, height: 20))]
        let fused = try ImagePipeline(steps).image(from: image)
        let sequential = try image.centerCropped(to: ImageSize(width: 120, height: 90)).flippedHorizontally()
            .resized(to: ImageSize(width: 60, height: 45)).centerCropped(to: ImageSize(width: 30, height: 20))
        #expect(Fixture.maxDifference(fused, sequential) <= 1)
        // Two resizes in a row are run one after the other.
        let twice = try ImagePipeline([.resize(to: ImageSize(width: 50, height: 30)), .resize(to: ImageSize(width: 20, height: 20))]).image(from: image)
        #expect(twice == (try image.resized(to: ImageSize(width: 50, height: 30)).resized(to: ImageSize(20))))
    }

    @Test("Pipelines on encoded data orient after resampling and use DCT scaling")
    func decodingPipeline() throws {
        let stored = try Fixture.photo(width: 480, height: 320)
        let plain = try ImageEncoder.jpeg(stored, quality: 95, subsampling: .yuv444)
        let steps: [ImageTransform] = [.resize(shorter: 64), .centerCrop(64)]
        var exact = DecodeOptions()
        exact.dctScaling = .disabled
        for orientation in ExifOrientation.allCases {
            let jpeg = Fixture.injectingExif(into: plain, orientation: orientation.rawValue)
            let upright = try ImageDecoder.decode(data: jpeg, options: exact)
            let reference = try upright.resized(shorterSide: 64).centerCropped(64)
            var random = SeededRandom(seed: 0)
            let planned = try ImagePipeline(steps, decodeOptions: exact).image(decoding: jpeg, using: &random)
            #expect(Fixture.maxDifference(planned, reference) <= 1, "orientation \(orientation)")
            // With DCT scaling the decode is a quarter of the size (≥ 64 on the short side) and stays close.
            let scaled = try ImagePipeline(steps).image(decoding: jpeg, using: &random)
            #expect(Fixture.psnr(scaled, reference) > 32, "orientation \(orientation)")
        }
    }

    @Test("Pipeline writes normalised planes into a loader buffer")
    func loaderBuffer() throws {
        let jpeg = try ImageEncoder.jpeg(try Fixture.photo(width: 100, height: 80))
        let pipeline = try ImagePipeline([.resize(shorter: 32), .centerCrop(32), .toTensor(normalization: .clip)])
        #expect(pipeline.normalization == .clip)
        var buffer = [Float](repeating: .nan, count: 3 * 32 * 32)
        var random = SeededRandom(seed: 1)
        try buffer.withUnsafeMutableBufferPointer { try pipeline.decode(jpeg, using: &random, into: $0) }
        var again = SeededRandom(seed: 1)
        let tensor = try pipeline.tensor(decoding: jpeg, using: &again)
        #expect(tensor.shape == [3, 32, 32])
        #expect(try tensor.toArray(Float.self) == buffer)
        #expect(buffer.allSatisfy { $0.isFinite && $0 > -2 && $0 < 2.2 })
        var small = [Float](repeating: 0, count: 10)
        #expect(throws: ImageError.self) { try small.withUnsafeMutableBufferPointer { try pipeline.decode(jpeg, using: &random, into: $0) } }
    }

    @Test("CLIP presets produce normalised 224 crops")
    func clipPresets() throws {
        let jpeg = try ImageEncoder.jpeg(try Fixture.photo(width: 500, height: 300))
        var random = SeededRandom(seed: 4)
        for pipeline in [try ImagePipeline.clipEvaluation(), try ImagePipeline.clipTraining()] {
            #expect(pipeline.normalization == .clip)
            let tensor = try pipeline.tensor(decoding: jpeg, using: &random)
            #expect(tensor.shape == [3, 224, 224])
        }
    }

    @Test("Invalid pipelines are rejected when built")
    func invalidPipelines() {
        #expect(throws: ImageError.self) { try ImagePipeline([.toTensor(normalization: .clip), .centerCrop(3)]) }
        #expect(throws: ImageError.self) { try ImagePipeline([.resize(shorter: 0)]) }
        #expect(throws: ImageError.self) { try ImagePipeline([.randomHorizontalFlip(probability: 1.5)]) }
        #expect(throws: ImageError.self) { try ImagePipeline([.randomResizedCrop(8, scale: 0...1)]) }
    }
}
