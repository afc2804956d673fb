import BriVLData
import BriVLInference
import Foundation
import Torch

/// The cleaning run's relevance filter backed by a trained model: the cosine of each pair's image and caption.
public final class ModelRelevanceScorer: RelevanceScorer, @unchecked Sendable {
    private let trained: TrainedModel
    private let lock = NSLock()
    public let identifier: String

    public init(_ trained: TrainedModel) {
        self.trained = trained
        identifier = "brivl:\(trained.model.configuration.name)@\(trained.source.identity)"
    }

    public func score(image: Data, text: String) throws -> Float {
        try scores([(image, text)])[0]
    }

    /// Scores a batch in one forward pass per tower; the model is used by one caller at a time.
    public func scores(_ pairs: [(image: Data, text: String)]) throws -> [Float] {
        guard !pairs.isEmpty else { return [] }
        return try lock.withLock {
            let images = try trained.embedImages(pairs.map(\.image))
            let texts = try trained.embedTexts(pairs.map(\.text))
            return try (images * texts).sum(dimension: 1).toArray(Float.self)
        }
    }
}
