import Torch

/// Scales all gradients together so their global L2 norm is at most `maxNorm`.
///
/// - Returns: the global norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double) throws -> Double {
    let gradients = parameters.compactMap(\.grad)
    guard !gradients.isEmpty else { return 0 }
    return try withNoGrad {
        let norms = try gradients.map { try $0.norm(2) }
        let total = try Tensor.stack(norms).norm(2)
        let totalNorm = try total.item()
        let scale = maxNorm / (totalNorm + 1e-6)
        if scale < 1 {
            for gradient in gradients { try gradient.multiplyInPlace(scale) }
        }
        return totalNorm
    }
}
