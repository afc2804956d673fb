import Foundation

/// Turns one sample's image file into the model's input: decode, augment, resize to `size`×`size`, normalise, and
/// write channel-major float32 (3 × size × size) into `pixels`.
///
/// Called concurrently from the loader's worker threads. Every random choice (crop, flip, jitter) must come from
/// `random`, which the loader seeds from (seed, epoch, rank, position): that is what keeps augmentations identical
/// across runs, worker counts and resumptions. Throwing marks the sample undecodable; the loader skips and counts it.
public protocol SampleDecoder: Sendable {
    func decode(
        _ data: Data, fileExtension: String, size: Int, random: inout LoaderRandom,
        into pixels: UnsafeMutableBufferPointer<Float>) throws

    /// The side this decoder always produces, when fixed; the loader refuses a configuration with another
    /// ``LoaderConfiguration/imageSize`` instead of skipping every sample.
    var outputSize: Int? { get }
}

extension SampleDecoder {
    public var outputSize: Int? { nil }
}

/// A ``SampleDecoder`` from a closure.
public struct ClosureSampleDecoder: SampleDecoder {
    public typealias Body = @Sendable (
        _ data: Data, _ fileExtension: String, _ size: Int, _ random: inout LoaderRandom,
        _ pixels: UnsafeMutableBufferPointer<Float>
    ) throws -> Void

    let body: Body

    public init(_ body: @escaping Body) {
        self.body = body
    }

    public func decode(
        _ data: Data, fileExtension: String, size: Int, random: inout LoaderRandom,
        into pixels: UnsafeMutableBufferPointer<Float>
    ) throws {
        try body(data, fileExtension, size, &random, pixels)
    }
}

/// Turns one caption into token ids. Called concurrently from the worker threads.
public protocol CaptionTokenizer: Sendable {
    /// The ids of `text` with the model's special tokens, at most `maxLength` of them (longer results are cut).
    func tokenIDs(for text: String, maxLength: Int) throws -> [Int]
    /// The id that pads captions shorter than the maximum length (its mask entries are 0).
    var paddingID: Int { get }
}

/// A stand-in tokenizer without a vocabulary: `[CLS]`=1, each UTF-8 byte b as b+3, `[SEP]`=2, padding 0.
/// For tests and benchmarks that must not depend on a vocabulary file.
public struct UTF8ByteTokenizer: CaptionTokenizer {
    public init() {}

    public var paddingID: Int { 0 }

    public func tokenIDs(for text: String, maxLength: Int) throws -> [Int] {
        guard maxLength >= 2 else { return Array([1].prefix(maxLength)) }
        var ids = [1]
        ids.reserveCapacity(maxLength)
        for byte in text.utf8.prefix(maxLength - 2) { ids.append(Int(byte) + 3) }
        ids.append(2)
        return ids
    }
}
