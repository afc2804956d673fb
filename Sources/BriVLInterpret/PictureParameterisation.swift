import Torch

/// Something an optimisation can draw with: leaves to optimise and the RGB logits they produce (pixels are
/// their sigmoid, so every picture is valid whatever the optimiser does).
public protocol PictureParameterisation: AnyObject {
    /// The leaves the optimiser changes.
    var parameters: [Tensor] { get }
    /// The picture's side in pixels.
    var side: Int { get }
    /// [1, 3, side, side] values before the sigmoid.
    func logits() throws -> Tensor
}

extension FourierImage: PictureParameterisation {
    public var side: Int { height }
}
