import Foundation
import Torch
import TorchNN

/// The BriVL two-tower model: image and text towers embedding into one L2-normalised space, and the learnable
/// temperature of the contrastive loss (kept as log 1/τ, CLIP's `logit_scale`).
///
///     let model = try BriVLModel(.tiny, generator: Generator(seed: 0))
///     let images = try model.encodeImage(batch.images)
///     let texts = try model.encodeText(tokenIDs: batch.tokenIDs, attentionMask: batch.attentionMask)
///     let scores = try model.similarity(images, texts)
public final class BriVLModel: Module {
    public let imageTower: ImageTower
    public let textTower: TextTower
    /// log(1/τ), a scalar parameter.
    public let logitScale: Tensor
    public let configuration: BriVLConfiguration

    public init(_ configuration: BriVLConfiguration, generator: Generator? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        imageTower = try ImageTower(configuration.image, generator: generator)
        textTower = try TextTower(configuration.text, generator: generator)
        logitScale = try Tensor.full([], Foundation.log(1 / configuration.initialTemperature))
            .requiringGrad()
    }

    /// The model of `configuration` with the given weights, built once: its parameters get storage but no random
    /// values, then every one is read from `weights`. A missing, unexpected or misshapen key is an error naming it.
    public static func loading(_ configuration: BriVLConfiguration, weights: [String: Tensor]) throws -> BriVLModel {
        let model = try Initialization.withoutValues { try BriVLModel(configuration) }
        try model.load(stateDict: weights)
        return model
    }

    /// - Parameter images: [batch, 3, size, size], normalised as the data pipeline does
    /// - Returns: [batch, embedding], L2-normalised
    public func encodeImage(_ images: Tensor) throws -> Tensor { try imageTower(images) }

    /// - Returns: [batch, embedding], L2-normalised
    public func encodeText(tokenIDs: Tensor, attentionMask: Tensor) throws -> Tensor {
        try textTower(tokenIDs: tokenIDs, attentionMask: attentionMask)
    }

    /// Cosine similarities of every image with every text: [images, texts].
    public func similarity(_ imageEmbeddings: Tensor, _ textEmbeddings: Tensor) throws -> Tensor {
        try imageEmbeddings.matmul(textEmbeddings.transposed())
    }

    /// The current 1/τ, clamped as the loss clamps it.
    public func currentLogitScale() throws -> Double {
        Swift.min(try logitScale.exp().item(), configuration.maximumLogitScale)
    }
}
