import Foundation
import Torch

/// One unit and how strongly it aligns with a concept.
public struct UnitAlignment: Codable, Sendable, Equatable {
    public var unit: Int
    /// ∂ cosine(image, concept) / ∂ unit, averaged over regions and starting images.
    public var score: Double
}

extension EmbeddingProbe {
    /// The units whose increase raises the image–text cosine with `text` [1, D] the most: the gradient of the
    /// cosine with respect to the pooled features, averaged over every region and over `sampleCount` random
    /// starting images of the kind an optimisation starts from. This is the head's linearised read-out weight of
    /// each unit for the concept, measured where the visualisation begins.
    public func unitsAligned(
        with text: Tensor, count: Int, sampleCount: Int = 8, background: [Double]? = nil, seed: UInt64 = 0
    ) throws -> [UnitAlignment] {
        guard (1...unitCount).contains(count) else {
            throw InterpretError.invalidArgument("--top-k must be between 1 and the \(unitCount) units, got \(count)")
        }
        return try withFrozenModel(model) {
            let generator = try Generator(seed: seed)
            let starts = try (0..<sampleCount).map { _ in
                try FourierImage(height: imageSize, width: imageSize, background: background, generator: generator).render().detach()
            }
            let images = try normalise(Tensor.cat(starts, dimension: 0))
            let features = try model.imageTower.features(images).detach().requiringGrad()
            let cosine = try (model.imageTower.head(features) * text).sum()
            try cosine.backward()
            guard let gradient = features.grad else {
                throw InterpretError.unsupportedModel("the image head gives no gradient for its input features")
            }
            let scores = try gradient.mean(dimensions: [0, 1]).toArray(Float.self)
            return scores.enumerated()
                .map { UnitAlignment(unit: $0.offset, score: Double($0.element)) }
                .sorted { $0.score > $1.score }
                .prefix(count).map { $0 }
        }
    }
}
