import Foundation
import Torch

/// A target size for ``ImageTransform/resize(_:filter:antialias:)``.
public enum ResizeTarget: Sendable, Equatable {
    /// Shorter side to this length, aspect ratio kept (torchvision `Resize(int)`).
    case shorterSide(Int)
    /// Longer side to this length, aspect ratio kept.
    case longerSide(Int)
    /// Exactly this size.
    case exact(ImageSize)

    func size(for input: ImageSize) -> ImageSize {
        switch self {
        case .shorterSide(let side): return input.scaledToShorterSide(side)
        case .longerSide(let side): return input.scaledToLongerSide(side)
        case .exact(let size): return size
        }
    }

    var isValid: Bool {
        switch self {
        case .shorterSide(let side), .longerSide(let side): return side > 0
        case .exact(let size): return size.width > 0 && size.height > 0
        }
    }
}

/// One step of an ``ImagePipeline``.
public enum ImageTransform: Sendable, Equatable {
    case resize(ResizeTarget, filter: ResamplingFilter, antialias: Bool)
    /// A centred crop; larger than the image, it pads with black (torchvision `CenterCrop`).
    case centerCrop(ImageSize)
    /// torchvision `RandomResizedCrop`: a random rectangle, resized to the size.
    case randomResizedCrop(ImageSize, RandomResizedCropParameters, filter: ResamplingFilter)
    case horizontalFlip
    /// Mirrors with this probability (one draw per image, whatever the outcome).
    case randomHorizontalFlip(probability: Double)
    /// Converts to a normalised float32 tensor [3, H, W]; must come last.
    case toTensor(normalization: Normalization)

    /// Shorter side to `shorter` pixels (bicubic, antialiased by default).
    public static func resize(shorter: Int, filter: ResamplingFilter = .bicubic, antialias: Bool = true) -> ImageTransform {
        .resize(.shorterSide(shorter), filter: filter, antialias: antialias)
    }

    /// Longer side to `longer` pixels.
    public static func resize(longer: Int, filter: ResamplingFilter = .bicubic, antialias: Bool = true) -> ImageTransform {
        .resize(.longerSide(longer), filter: filter, antialias: antialias)
    }

    /// Exactly `size`.
    public static func resize(to size: ImageSize, filter: ResamplingFilter = .bicubic, antialias: Bool = true) -> ImageTransform {
        .resize(.exact(size), filter: filter, antialias: antialias)
    }

    /// A centred `side`×`side` crop.
    public static func centerCrop(_ side: Int) -> ImageTransform { .centerCrop(ImageSize(side)) }

    /// A random crop resized to `side`×`side` (torchvision's defaults: scale 0.08...1, ratio 3/4...4/3).
    public static func randomResizedCrop(
        _ side: Int, scale: ClosedRange<Double> = 0.08...1.0, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
        filter: ResamplingFilter = .bicubic
    ) -> ImageTransform {
        .randomResizedCrop(ImageSize(side), RandomResizedCropParameters(scale: scale, ratio: ratio), filter: filter)
    }
}

/// A sequence of transforms applied to decoded images, optionally ending in a tensor conversion:
///
///     let pipeline = try ImagePipeline([.resize(shorter: 224), .centerCrop(224), .toTensor(normalization: .clip)])
///     let tensor = try pipeline.tensor(decoding: jpegData, using: &random)
///
/// Geometric steps are planned before any pixel is touched: crops and flips fold into the next resampling (a
/// crop after a resize becomes the resampling's source box, exactly as resizing everything and cropping), so each
/// run of steps costs one resampling of only the pixels that reach the output. When decoding, the plan also tells
/// the JPEG decoder how small it may decode (DCT scaling), and the EXIF orientation is applied to the small result
/// rather than to the full-size picture.
///
/// Random steps draw from the caller's generator, in order, one image at a time: the same seed gives the same
/// augmentations whether or not steps were fused.
public struct ImagePipeline: Sendable {
    /// The steps before the tensor conversion.
    public let transforms: [ImageTransform]
    /// The final tensor conversion's normalisation, when the pipeline ends with ``ImageTransform/toTensor(normalization:)``.
    public let normalization: Normalization?
    /// Decoding limits and choices (``DecodeOptions/minimumSize`` is set per image from the plan).
    public var decodeOptions: DecodeOptions

    public init(_ transforms: [ImageTransform], decodeOptions: DecodeOptions = DecodeOptions()) throws {
        var steps = transforms
        var normalization: Normalization? = nil
        if case .toTensor(let last)? = steps.last {
            try last.validate()
            normalization = last
            steps.removeLast()
        }
        for step in steps {
            switch step {
            case .toTensor: throw ImageError.invalidArgument("toTensor must be the last transform")
            case .resize(let target, _, _):
                if !target.isValid { throw ImageError.invalidArgument("resize target \(target) is empty") }
            case .centerCrop(let size):
                if size.width <= 0 || size.height <= 0 { throw ImageError.invalidArgument("center crop \(size) is empty") }
            case .randomResizedCrop(let size, let parameters, _):
                if size.width <= 0 || size.height <= 0 {
                    throw ImageError.invalidArgument("random resized crop \(size) is empty")
                }
                try parameters.validate()
            case .randomHorizontalFlip(let probability):
                if !(0...1).contains(probability) {
                    throw ImageError.invalidArgument("flip probability \(probability) is not in [0, 1]")
                }
            case .horizontalFlip: break
            }
        }
        self.transforms = steps
        self.normalization = normalization
        self.decodeOptions = decodeOptions
    }

    /// Evaluation preprocessing, the same for training's validation, evaluation, indexing and serving: shorter side
    /// to `size` (bicubic, antialiased), centre crop, normalise; no randomness.
    public static func evaluation(size: Int, normalization: Normalization = .clip) throws -> ImagePipeline {
        try ImagePipeline([.resize(shorter: size), .centerCrop(size), .toTensor(normalization: normalization)])
    }

    // MARK: - Running

    /// Decodes `data` and applies the transforms.
    public func image(decoding data: some ContiguousBytes, using generator: inout some RandomNumberGenerator) throws -> Image {
        try data.withUnsafeBytes { try image(decodingBytes: $0, using: &generator) }
    }

    /// Applies the transforms to a decoded (upright) image.
    public func image(from image: Image, using generator: inout some RandomNumberGenerator) throws -> Image {
        try run(image, from: 0, using: &generator)
    }

    /// Applies the transforms to a decoded image, drawing any randomness from a generator seeded with 0.
    public func image(from image: Image) throws -> Image {
        var generator = SeededRandom(seed: 0)
        return try run(image, from: 0, using: &generator)
    }

    /// Decodes, transforms and converts to a float32 tensor [3, H, W] (normalised by the pipeline's `toTensor`
    /// step, or to [0, 1] without one).
    public func tensor(decoding data: some ContiguousBytes, using generator: inout some RandomNumberGenerator) throws -> Tensor {
        try image(decoding: data, using: &generator).tensor(normalization: normalization ?? .unit)
    }

    public func tensor(from image: Image, using generator: inout some RandomNumberGenerator) throws -> Tensor {
        try self.image(from: image, using: &generator).tensor(normalization: normalization ?? .unit)
    }

    /// Decodes, transforms and writes normalised float32 planes [3, H, W] into `buffer` (a data loader's slot).
    /// The buffer must hold exactly 3·H·W values of the output size.
    public func decode(
        _ data: some ContiguousBytes, using generator: inout some RandomNumberGenerator,
        into buffer: UnsafeMutableBufferPointer<Float>
    ) throws {
        let result = try image(decoding: data, using: &generator)
        try result.writeNormalizedPlanes(into: buffer, normalization: normalization ?? .unit)
    }

    func image(decodingBytes bytes: UnsafeRawBufferPointer, using generator: inout some RandomNumberGenerator) throws -> Image {
        let info = try ImageDecoder.probe(bytes: bytes)
        let orientation = decodeOptions.applyExifOrientation ? info.orientation : .up
        let upright = orientation.swapsAxes ? info.storedSize.transposed : info.storedSize
        let (plan, next) = planSegment(from: 0, source: upright, using: &generator)
        // The decoder keeps the stored orientation; it is applied after resampling, to the (smaller) result.
        var options = decodeOptions
        options.applyExifOrientation = false
        options.minimumSize = nil
        if plan.filter != nil && options.dctScaling != .disabled {
            // The smallest decode whose pixels still cover the output 1:1 inside the planned box.
            let needed = ImageSize(
                width: Int((Double(upright.width) * Double(plan.size.width) / plan.box.width - 1e-9).rounded(.up)),
                height: Int((Double(upright.height) * Double(plan.size.height) / plan.box.height - 1e-9).rounded(.up)))
            options.minimumSize = orientation.swapsAxes ? needed.transposed : needed
        }
        let decoded = try ImageDecoder.decodeDetailed(bytes: bytes, options: options)
        let planned = try execute(plan, on: decoded.image, orientation: orientation, storedSize: info.storedSize)
        return try run(planned, from: next, using: &generator)
    }

    /// Applies transforms[index...] to an upright image, one fused segment at a time.
    private func run(_ image: Image, from index: Int, using generator: inout some RandomNumberGenerator) throws -> Image {
        var image = image
        var index = index
        while index < transforms.count {
            let (plan, next) = planSegment(from: index, source: image.size, using: &generator)
            if next == index {
                image = try applyAlone(transforms[index], to: image, using: &generator)
                index += 1
            } else {
                image = try execute(plan, on: image, orientation: .up, storedSize: image.size)
                index = next
            }
        }
        return image
    }

    // MARK: - Planning

    /// What a run of steps does, in the coordinates of its source: take `box`, resample it to `size` (or copy it,
    /// when no step resampled), then mirror if `flipped`.
    struct Plan {
        var box: PixelBox
        var size: ImageSize
        var filter: ResamplingFilter?
        var antialias = true
        var flipped = false

        init(source: ImageSize) {
            box = PixelBox(covering: source)
            size = source
        }

        /// Crops the planned output to the integer rectangle (x, y, width, height) of its current size.
        mutating func crop(x: Int, y: Int, width: Int, height: Int) {
            // Seen through a pending mirror, the rectangle's left edge is measured from the right.
            let left = flipped ? size.width - x - width : x
            let scaleX = box.width / Double(size.width), scaleY = box.height / Double(size.height)
            box = PixelBox(
                x0: box.x0 + Double(left) * scaleX, y0: box.y0 + Double(y) * scaleY,
                x1: box.x0 + Double(left + width) * scaleX, y1: box.y0 + Double(y + height) * scaleY)
            size = ImageSize(width: width, height: height)
        }

        /// Folds one step into the plan; false (plan unchanged) when the step needs the pixels of the steps before
        /// it. Random steps draw here, in order, so fused and unfused runs consume the generator alike.
        mutating func fold(_ step: ImageTransform, using generator: inout some RandomNumberGenerator) -> Bool {
            switch step {
            case .resize(let target, let filter, let antialias):
                if self.filter != nil { return false }
                self.filter = filter
                self.antialias = antialias
                size = target.size(for: size)
            case .centerCrop(let crop):
                if crop.width > size.width || crop.height > size.height { return false }
                self.crop(
                    x: Image.centeredOffset(size: size.width, crop: crop.width),
                    y: Image.centeredOffset(size: size.height, crop: crop.height), width: crop.width, height: crop.height)
            case .randomResizedCrop(let output, let parameters, let filter):
                if self.filter != nil { return false }
                let rectangle = parameters.sample(in: size, using: &generator)
                self.crop(x: rectangle.x, y: rectangle.y, width: rectangle.width, height: rectangle.height)
                self.filter = filter
                antialias = true
                size = output
            case .horizontalFlip:
                flipped.toggle()
            case .randomHorizontalFlip(let probability):
                if Draw.unit(&generator) < probability { flipped.toggle() }
            case .toTensor:
                return false
            }
            return true
        }
    }

    /// Plans transforms[start...] until one needs the pixels of the previous ones (a second resampling, or a
    /// padding crop). Returns the plan and the index of the first step not in it (== start: apply it alone).
    func planSegment(from start: Int, source: ImageSize, using generator: inout some RandomNumberGenerator) -> (Plan, Int) {
        var plan = Plan(source: source)
        var index = start
        // One step per call of `fold`, with no early exit from inside a switch in this loop: Swift 6.3.1 at -O
        // miscompiled that shape (returns from the switch dropped the plan's updates), see `Plan.fold`.
        while index < transforms.count && plan.fold(transforms[index], using: &generator) {
            index += 1
        }
        return (plan, index)
    }

    /// Runs a plan made in upright coordinates on `stored`, a picture stored with `orientation` whose full-size
    /// stored dimensions are `storedSize` (`stored` may be smaller: a DCT-scaled decode).
    func execute(_ plan: Plan, on stored: Image, orientation: ExifOrientation, storedSize: ImageSize) throws -> Image {
        let box = orientation.storedBox(of: plan.box, stored: storedSize)
        let outputSize = orientation.swapsAxes ? plan.size.transposed : plan.size
        var result: Image
        if let filter = plan.filter {
            let scaled = box.scaled(
                x: Double(stored.width) / Double(storedSize.width), y: Double(stored.height) / Double(storedSize.height))
            result = try stored.resampled(box: scaled, to: outputSize, filter: filter, antialias: plan.antialias)
        } else if stored.size == storedSize {
            result = try stored.cropped(
                x: Int(box.x0.rounded()), y: Int(box.y0.rounded()), width: outputSize.width, height: outputSize.height)
        } else {
            let scaled = box.scaled(
                x: Double(stored.width) / Double(storedSize.width), y: Double(stored.height) / Double(storedSize.height))
            result = try stored.resampled(box: scaled, to: outputSize, filter: .bicubic)
        }
        result = result.oriented(orientation)
        return plan.flipped ? result.flippedHorizontally() : result
    }

    /// One step on its own (when it cannot be fused with its neighbours).
    private func applyAlone(
        _ transform: ImageTransform, to image: Image, using generator: inout some RandomNumberGenerator
    ) throws -> Image {
        switch transform {
        case .resize(let target, let filter, let antialias):
            return try image.resized(to: target.size(for: image.size), filter: filter, antialias: antialias)
        case .centerCrop(let size):
            return try image.centerCropped(to: size)
        case .randomResizedCrop(let output, let parameters, let filter):
            let rectangle = parameters.sample(in: image.size, using: &generator)
            return try image.resampled(
                box: PixelBox(x: rectangle.x, y: rectangle.y, width: rectangle.width, height: rectangle.height),
                to: output, filter: filter)
        case .horizontalFlip:
            return image.flippedHorizontally()
        case .randomHorizontalFlip(let probability):
            return Draw.unit(&generator) < probability ? image.flippedHorizontally() : image
        case .toTensor:
            return image
        }
    }
}

extension ImagePipeline {
    /// OpenCLIP's evaluation transform: shorter side to `size` (bicubic, antialiased), centre crop, CLIP
    /// normalisation.
    public static func clipEvaluation(size: Int = 224, decodeOptions: DecodeOptions = DecodeOptions()) throws -> ImagePipeline {
        try ImagePipeline(
            [.resize(shorter: size), .centerCrop(size), .toTensor(normalization: .clip)], decodeOptions: decodeOptions)
    }

    /// OpenCLIP's training transform: a random resized crop covering 90–100 % of the area (ratios 3/4...4/3,
    /// bicubic), CLIP normalisation.
    public static func clipTraining(size: Int = 224, decodeOptions: DecodeOptions = DecodeOptions()) throws -> ImagePipeline {
        try ImagePipeline(
            [.randomResizedCrop(size, scale: 0.9...1.0), .toTensor(normalization: .clip)], decodeOptions: decodeOptions)
    }
}
