import Foundation
import Imaging

/// How a model's images are prepared before its tower sees them: the resize and the channel statistics its
/// weights were trained with. Our own runs use ``clipCenterCrop``; imported weights say theirs in the run folder's
/// `preprocessing.json`, because a model fed another crop or other statistics embeds worse.
public struct ImagePreprocessing: Codable, Sendable, Equatable {
    public enum Resize: String, Codable, Sendable {
        /// Shorter side to the tower's size (bicubic, antialiased), then the centre square (OpenCLIP, our runs).
        case shorterSideCenterCrop = "shorter_side_center_crop"
        /// The whole image squeezed to the tower's square (bicubic, antialiased), no crop (Chinese-CLIP).
        case square
    }

    public var resize: Resize
    public var mean: [Float]
    public var std: [Float]

    public init(resize: Resize, normalization: Normalization) {
        self.resize = resize
        mean = [normalization.mean.x, normalization.mean.y, normalization.mean.z]
        std = [normalization.std.x, normalization.std.y, normalization.std.z]
    }

    /// Our runs' preparation: shorter side, centre crop, OpenAI CLIP statistics.
    public static let clipCenterCrop = ImagePreprocessing(resize: .shorterSideCenterCrop, normalization: .clip)

    /// The file a run folder may hold; absent means ``clipCenterCrop``.
    public static let fileName = "preprocessing.json"

    /// The pipeline producing `size`² tensors.
    public func pipeline(size: Int) throws -> ImagePipeline {
        guard mean.count == 3, std.count == 3 else {
            throw InferenceError.source("preprocessing needs 3 means and 3 standard deviations, got \(mean) and \(std)")
        }
        let normalization = Normalization(mean: SIMD3(mean[0], mean[1], mean[2]), std: SIMD3(std[0], std[1], std[2]))
        switch resize {
        case .shorterSideCenterCrop:
            return try ImagePipeline.evaluation(size: size, normalization: normalization)
        case .square:
            return try ImagePipeline([
                .resize(.exact(ImageSize(width: size, height: size)), filter: .bicubic, antialias: true),
                .toTensor(normalization: normalization),
            ])
        }
    }

    /// The preparation a run folder records, or ``clipCenterCrop`` when it records none.
    public static func read(runDirectory: String) throws -> ImagePreprocessing {
        let path = (runDirectory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return .clipCenterCrop }
        do { return try JSONDecoder().decode(ImagePreprocessing.self, from: data) } catch {
            throw InferenceError.source("\(path) is not an image preprocessing description: \(error)")
        }
    }
}
