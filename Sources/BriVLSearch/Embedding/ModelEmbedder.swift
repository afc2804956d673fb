import BriVLInference
import Foundation
import Imaging
import Torch

/// A ``SearchEmbedder`` backed by a trained BriVL: each image is decoded and preprocessed on its own (so a broken
/// file only fails itself), then the batch goes through the image tower in one forward pass.
///
/// libtorch modules are not safe to call from several threads at once, so calls are serialised; the server calls
/// it from one dedicated thread anyway.
public final class ModelEmbedder: SearchEmbedder, @unchecked Sendable {
    public let trained: TrainedModel
    private let pipeline: ImagePipeline
    private let lock = NSLock()

    public var dimension: Int { trained.model.configuration.embeddingSize }
    /// The model's name and the fingerprint of its weights: not their path, so that another model written to the
    /// same folder re-embeds everything and the same checkpoint named another way re-embeds nothing.
    public var identity: String { "\(trained.model.configuration.name)@\(trained.source.fingerprint)" }

    /// - Parameter maxPixels: images with more pixels are refused from their header (decompression bombs)
    public init(_ trained: TrainedModel, maxPixels: Int = DecodeOptions.defaultMaxPixels) {
        self.trained = trained
        var pipeline = trained.preprocessing
        pipeline.decodeOptions.maxPixels = maxPixels
        self.pipeline = pipeline
    }

    public func embedImages(_ images: [Data]) throws -> [ImageEmbedding] {
        var random = SeededRandom(seed: 0)
        var results = [ImageEmbedding](repeating: .unreadable(""), count: images.count)
        var decoded: [(index: Int, tensor: Tensor)] = []
        for (index, data) in images.enumerated() {
            do {
                decoded.append((index, try pipeline.tensor(decoding: data, using: &random)))
            } catch {
                results[index] = .unreadable("\(error)")
            }
        }
        guard !decoded.isEmpty else { return results }
        let vectors = try lock.withLock { try trained.embedder(batchSize: decoded.count).embedImages(Tensor.stack(decoded.map(\.tensor))) }
        for (row, vector) in try Self.rows(vectors).enumerated() { results[decoded[row].index] = .vector(vector) }
        return results
    }

    public func embedTexts(_ texts: [String]) throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try Self.rows(lock.withLock { try trained.embedTexts(texts) })
    }

    public func embedClasses(prompts: [[String]]) throws -> [[Float]] {
        return try Self.rows(lock.withLock { try trained.embedder().embedClasses(prompts: prompts) })
    }

    /// [n, dim] → n arrays.
    static func rows(_ matrix: Tensor) throws -> [[Float]] {
        let values = try matrix.toArray(Float.self)
        let width = matrix.size(1)
        return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<$0 + width]) }
    }
}
