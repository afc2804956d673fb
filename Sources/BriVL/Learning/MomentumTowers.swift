import Torch
import TorchNN

/// MoCo's momentum copies of both towers: never trained by gradients, they follow the trained towers as an
/// exponential moving average (BriVL: m = 0.99) and produce the keys that fill the negative queues.
public final class MomentumTowers: Module {
    public let imageTower: ImageTower
    public let textTower: TextTower

    /// Starts as an exact copy of the model's towers.
    public init(copying model: BriVLModel) throws {
        imageTower = try ImageTower(model.configuration.image)
        textTower = try TextTower(model.configuration.text)
        super.init()
        try to(device: model.logitScale.device, dtype: model.logitScale.dtype)
        try copy(from: model)
        try freeze()
    }

    /// Overwrites every parameter and buffer with the model's (used at the start and by tests).
    public func copy(from model: BriVLModel) throws {
        try imageTower.load(stateDict: Dictionary(uniqueKeysWithValues: model.imageTower.stateDict()))
        try textTower.load(stateDict: Dictionary(uniqueKeysWithValues: model.textTower.stateDict()))
    }

    /// t ← m·t + (1 − m)·s for every parameter of both towers.
    public func update(from model: BriVLModel, momentum: Double) throws {
        let average = try ExponentialMovingAverage(momentum: momentum)
        try average.update(imageTower, from: model.imageTower)
        try average.update(textTower, from: model.textTower)
    }

    /// The keys of a batch, without a graph: ([batch, dim], [batch, dim]).
    public func keys(images: Tensor, tokenIDs: Tensor, attentionMask: Tensor) throws -> (image: Tensor, text: Tensor) {
        try withNoGrad {
            (try imageTower(images), try textTower(tokenIDs: tokenIDs, attentionMask: attentionMask))
        }
    }
}
