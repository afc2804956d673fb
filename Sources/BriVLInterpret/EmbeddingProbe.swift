import BriVL
import BriVLInference
import Foundation
import Imaging
import Tokenization
import Torch
import TorchNN

/// What the explanations read from a frozen model: the text embedding of a prompt, and for images given as RGB in
/// [0, 1] their joint-space embedding and the pooled backbone features the image head reads.
///
/// The "units" of the image tower are the channels of those pooled features: the vectors the tower hands to its
/// embedding head (MGS region vectors, feature-map cells or ViT tokens), averaged over regions. They are the last
/// layer of the tower that is still organised by channel; the joint embedding after the head is a mixture.
public final class EmbeddingProbe {
    public let model: BriVLModel
    public let tokenizer: any TextTokenizer
    let mean: Tensor
    let std: Tensor

    /// - Parameter normalization: the normalisation the model's preprocessing applies (CLIP's for trained runs)
    public init(model: BriVLModel, tokenizer: any TextTokenizer, normalization: Normalization = .clip) throws {
        self.model = model
        self.tokenizer = tokenizer
        mean = try Tensor((0..<3).map { normalization.mean[$0] }, shape: [1, 3, 1, 1])
        std = try Tensor((0..<3).map { normalization.std[$0] }, shape: [1, 3, 1, 1])
    }

    /// The model's input side.
    public var imageSize: Int { model.configuration.image.imageSize }

    /// The number of units (pooled feature channels).
    public var unitCount: Int { model.configuration.image.backboneWidth }

    /// [N, 3, H, W] in [0, 1] → what the model's preprocessing would give for the same pixels.
    public func normalise(_ images: Tensor) throws -> Tensor { try (images - mean) / std }

    /// The prompts' embeddings [count, D], without gradients.
    public func textEmbeddings(_ prompts: [String]) throws -> Tensor {
        for prompt in prompts where prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw InterpretError.invalidArgument("a prompt is empty; give the concept as text, e.g. \"红色的连衣裙\"")
        }
        return try TowerEmbedder(model: model, tokenizer: tokenizer).embedTexts(prompts)
    }

    /// Embeddings [N, D] and pooled unit activations [N, units] of images in [0, 1] at the model's size.
    public func imageOutputs(_ images: Tensor) throws -> (embedding: Tensor, units: Tensor) {
        let features = try model.imageTower.features(normalise(images))
        let embedding = try model.imageTower.head(features)
        return (embedding, try features.mean(dimension: 1))
    }

    /// Images of any size in [0, 1], resized (bilinear, antialiased) to the model's input.
    public func resizedToModel(_ images: Tensor) throws -> Tensor {
        if images.size(2) == imageSize && images.size(3) == imageSize { return images }
        return try Functional.interpolate(images, size: (imageSize, imageSize), mode: .bilinear, antialias: true)
    }

    /// Cosine with `text` [1, D] and every unit's activation, of images in [0, 1] seen as they are (no jitter),
    /// the model in evaluation mode.
    public func measure(_ images: Tensor, text: Tensor) throws -> (cosine: [Double], units: Tensor) {
        try withFrozenModel(model) { try withNoGrad {
            let outputs = try imageOutputs(resizedToModel(images))
            let cosines = try (outputs.embedding * text).sum(dimension: 1).toArray(Float.self).map(Double.init)
            return (cosines, outputs.units)
        } }
    }
}

/// Keeps a model's weights out of an optimisation of its input: evaluation mode (batch norm reads its running
/// statistics and never updates them, dropout is off) and no gradient recording for any parameter, both put back
/// afterwards.
public func withFrozenModel<R>(_ model: Module, _ body: () throws -> R) throws -> R {
    let recorded = model.parameters().map { ($0, $0.requiresGrad) }
    return try model.withEvaluationMode {
        try model.freeze()
        defer { for (parameter, flag) in recorded { _ = try? parameter.requiringGrad(flag) } }
        return try body()
    }
}
