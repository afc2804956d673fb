import Torch

/// Regularisers of the optimised image.
public enum Penalties {
    /// Mean absolute difference between horizontally and vertically neighbouring pixels of [N, C, H, W]: small for
    /// smooth images, large for speckle.
    public static func totalVariation(_ images: Tensor) throws -> Tensor {
        let (height, width) = (images.size(2), images.size(3))
        let vertical = try (images.sliced(dimension: 2, start: 1, end: height)
            - images.sliced(dimension: 2, start: 0, end: height - 1)).abs().mean()
        let horizontal = try (images.sliced(dimension: 3, start: 1, end: width)
            - images.sliced(dimension: 3, start: 0, end: width - 1)).abs().mean()
        return try vertical + horizontal
    }

    /// Mean squared excess of |logits| over `limit`: zero while colours stay inside sigmoid(±limit), growing once
    /// they saturate, where the sigmoid's gradient vanishes and the optimisation would stall at pure colours.
    public static func range(_ logits: Tensor, limit: Double) throws -> Tensor {
        try (logits.abs() - limit).relu().pow(2.0).mean()
    }

    /// Mean absolute difference from a plain `background` colour ([1, 3, 1, 1] in [0, 1]): an L1 "ink" cost that
    /// leaves the canvas plain wherever drawing does not pay, so what the objective needs stands out instead of
    /// being spread as a faint tint over the whole picture.
    public static func ink(_ images: Tensor, background: Tensor) throws -> Tensor {
        try (images - background).abs().mean()
    }
}
