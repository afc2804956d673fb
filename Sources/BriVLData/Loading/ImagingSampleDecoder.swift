import Foundation
import Imaging

/// The project's image pipeline (libjpeg-turbo / libpng / libwebp decoding, fused crop and resize, normalisation)
/// as the loader's decoder: it writes straight into the loader's pixel slot and draws its augmentations from the
/// sample's random stream.
public struct ImagingSampleDecoder: SampleDecoder {
    public let pipeline: ImagePipeline
    /// The side of the images the pipeline produces.
    public let size: Int

    /// - Parameter size: the side the pipeline's last geometric step produces; ``DataLoader`` checks it against
    ///   ``LoaderConfiguration/imageSize``.
    public init(pipeline: ImagePipeline, size: Int) {
        self.pipeline = pipeline
        self.size = size
    }

    /// Training augmentation as OpenCLIP does it: a random crop of `scale` of the area, resized (bicubic) to
    /// `size`², then normalised. No flip: captions say "left" and "right".
    public static func training(
        size: Int, scale: ClosedRange<Double> = 0.9...1.0, normalization: Normalization = .clip
    ) throws -> ImagingSampleDecoder {
        ImagingSampleDecoder(
            pipeline: try ImagePipeline([
                .randomResizedCrop(size, scale: scale), .toTensor(normalization: normalization),
            ]), size: size)
    }

    /// Evaluation preprocessing (``ImagePipeline/evaluation(size:normalization:)``).
    public static func evaluation(size: Int, normalization: Normalization = .clip) throws -> ImagingSampleDecoder {
        ImagingSampleDecoder(pipeline: try .evaluation(size: size, normalization: normalization), size: size)
    }

    public var outputSize: Int? { size }

    public func decode(
        _ data: Data, fileExtension: String, size: Int, random: inout LoaderRandom,
        into pixels: UnsafeMutableBufferPointer<Float>
    ) throws {
        try pipeline.decode(data, using: &random, into: pixels)
    }
}
