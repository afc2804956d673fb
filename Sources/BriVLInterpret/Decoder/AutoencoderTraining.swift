import Foundation
import Torch
import TorchNN

extension PictureAutoencoder {
    /// Fits the autoencoder to `pictures` [N, 3, S, S] in [0, 1] with Adam on random mini-batches.
    /// - Returns: the reconstruction loss of every step's batch
    public func fit(
        _ pictures: Tensor, steps: Int, batchSize: Int, learningRate: Double = 2e-3, seed: UInt64 = 0,
        progress: (Int, Double) -> Void = { _, _ in }
    ) throws -> [Double] {
        guard steps >= 1, batchSize >= 1 else {
            throw InterpretError.invalidArgument("training needs at least one step and one picture per batch")
        }
        guard pictures.size(0) >= 1 else { throw InterpretError.invalidArgument("no pictures to train on") }
        train()
        defer { eval() }
        let generator = try Generator(seed: seed)
        let optimizer = try AdamW(groups: [ParameterGroup(trainableParameters())], learningRate: learningRate)
        var losses: [Double] = []
        for step in 0..<steps {
            let indices = try Tensor.randint(0..<pictures.size(0), shape: [min(batchSize, pictures.size(0))], generator: generator)
            let loss = try reconstructionLoss(pictures.indexSelect(dimension: 0, index: indices))
            try loss.backward()
            try optimizer.step()
            try optimizer.zeroGrad()
            losses.append(try loss.item())
            progress(step + 1, losses.last!)
        }
        return losses
    }
}
