import BriVL
import BriVLInference
import Foundation
import Torch

/// Which parts of an image and of a text drive their cosine.
public struct PairSaliency: Sendable {
    /// The image–text cosine.
    public var cosine: Double
    /// Integrated gradient × (input − baseline) per input pixel, summed over colour channels: [side][side], row-major.
    public var pixels: [[Double]]
    /// Integrated gradient × (input − baseline) per region vector the image head reads (MGS region, feature-map cell or ViT
    /// patch; the baseline is the same region of a plain baseline-coloured picture), in the tower's order, with
    /// where each one lies.
    public var regions: [RegionScore]
    /// The region scores on the finest grid (coarser regions spread over the cells they cover).
    public var regionMap: [[Double]]
    /// Integrated gradient × input per token's word vector (baseline: the zero vector), padding excluded.
    public var tokens: [TokenScore]

    public struct RegionScore: Codable, Sendable, Equatable {
        public var index: Int
        public var cell: RegionLayout.Cell?
        public var score: Double
    }

    public struct TokenScore: Codable, Sendable, Equatable {
        public var token: String
        public var score: Double
    }
}

extension EmbeddingProbe {
    /// Attributions of the cosine between `image` ([1, 3, S, S] in [0, 1], at the model's size) and `text`.
    /// - Parameter baseline: the RGB colour in [0, 1] that stands for "nothing here" (the canvas colour)
    /// - Parameter steps: points on each attribution path (see ``Attribution``)
    public func saliency(image: Tensor, text: String, baseline: [Float] = [1, 1, 1], steps: Int = 16) throws
        -> PairSaliency
    {
        guard image.rank == 4, image.size(0) == 1, image.size(1) == 3, image.size(2) == imageSize,
            image.size(3) == imageSize
        else {
            throw InterpretError.invalidArgument("saliency takes one [1, 3, \(imageSize), \(imageSize)] image, got \(image.shape)")
        }
        guard baseline.count == 3 else { throw InterpretError.invalidArgument("the baseline is an RGB colour") }
        return try withFrozenModel(model) {
            let textEmbedding = try textEmbeddings([text])
            let imageEmbedding = try withNoGrad { try imageOutputs(image).embedding }
            let tower = model.imageTower

            let pixels = try Attribution.pixels(image, baseline: Tensor(baseline, shape: [1, 3, 1, 1]), steps: steps) {
                input in
                try (imageOutputs(input).embedding * textEmbedding).sum()
            }
            let features = try withNoGrad { try tower.features(normalise(image)) }
            // The regions of a plain baseline-coloured picture: an empty region then scores zero, as an empty
            // pixel does (MGS region vectors are normalised, so "empty" is not the zero vector).
            let emptyFeatures = try withNoGrad {
                try tower.features(normalise(Tensor(baseline, shape: [1, 3, 1, 1]).expanded(to: image.shape).contiguous()))
            }
            let regions = try Attribution.vectors(features, baseline: emptyFeatures, steps: steps) { vectors in
                try (tower.head(vectors) * textEmbedding).sum()
            }
            let tokens = try tokenScores(text: text, imageEmbedding: imageEmbedding, steps: steps)

            let side = imageSize
            let pixelValues = try pixels.scores.toArray(Float.self).map(Double.init)
            let regionValues = try regions.scores.toArray(Float.self).map(Double.init)
            let layout = try RegionLayout(
                model.configuration.image, featureMapSide: Int(Double(features.size(1)).squareRoot().rounded()))
            guard layout.cells.count == regionValues.count else {
                throw InterpretError.unsupportedModel(
                    "the tower hands \(regionValues.count) vectors to its head, its layout places \(layout.cells.count)")
            }
            return PairSaliency(
                cosine: pixels.value,
                pixels: (0..<side).map { Array(pixelValues[($0 * side)..<(($0 + 1) * side)]) },
                regions: regionValues.enumerated().map {
                    PairSaliency.RegionScore(index: $0.offset, cell: layout.cells[$0.offset], score: $0.element)
                },
                regionMap: layout.finestMap(regionValues), tokens: tokens)
        }
    }

    /// Gradient × input on each real token's word vector, for the cosine with a fixed image embedding.
    func tokenScores(text: String, imageEmbedding: Tensor, steps: Int) throws -> [PairSaliency.TokenScore] {
        let input = try TextInput([text], for: model, tokenizer: tokenizer)
        let (ids, mask, encoded) = (input.tokenIDs, input.attentionMask, input.encoding)
        let table = try model.textTower.wordEmbeddings
        let words = try withNoGrad { try Functional.embedding(ids, weight: table) }
        let scores = try Attribution.vectors(words, steps: steps) { vectors in
            let masks = try mask.expanded(to: [vectors.size(0), mask.size(1)])
            return try (model.textTower.encode(wordVectors: vectors, attentionMask: masks) * imageEmbedding).sum()
        }.scores.toArray(Float.self)
        let realCount = encoded.attentionMask.reduce(0) { $0 + Int($1) }
        let tokens = tokenizer.tokens(for: encoded.ids.prefix(realCount).map { Int($0) })
        return zip(tokens, scores).map { PairSaliency.TokenScore(token: $0, score: Double($1)) }
    }
}
