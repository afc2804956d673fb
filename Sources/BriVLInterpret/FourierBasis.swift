import Foundation
import Torch

/// The two-dimensional real discrete Fourier transform of H×W images written as matrix products with precomputed
/// cosine and sine tables, so that it runs (and back-propagates) through ordinary `matmul`s. For the image sizes an
/// explanation optimises (≤ 128 pixels) the O(N³) products cost less than the rest of a step.
///
/// The layout is the usual real-input one: `rfft2` keeps the W/2 + 1 non-negative column frequencies of every row
/// frequency, and `irfft2` (unnormalised forward, 1/(H·W) inverse) inverts it exactly. The imaginary parts of the
/// zero and (for even W) Nyquist columns are ignored by the inverse, as a real-output inverse transform must.
public struct FourierBasis {
    public let height: Int
    public let width: Int
    /// W/2 + 1, the stored column frequencies.
    public var frequencyColumns: Int { width / 2 + 1 }

    /// [H, H]: cos(2π·k·y/H) and sin(2π·k·y/H), symmetric.
    let rowCosine: Tensor
    let rowSine: Tensor
    /// [W, W/2+1]: cos(2π·l·x/W) and sin(2π·l·x/W), for the forward transform.
    let columnCosine: Tensor
    let columnSine: Tensor
    /// [W/2+1, W]: the inverse's tables, with each column frequency's Hermitian weight (1 for DC and Nyquist, 2
    /// otherwise) and 1/(H·W) folded in.
    let inverseColumnCosine: Tensor
    let inverseColumnSine: Tensor

    public init(height: Int, width: Int) throws {
        guard height > 0, width > 0 else {
            throw InterpretError.invalidArgument("a Fourier basis needs a positive size, got \(height)×\(width)")
        }
        self.height = height
        self.width = width
        let columns = width / 2 + 1
        func table(_ rows: Int, _ cols: Int, _ value: (Int, Int) -> Double) throws -> Tensor {
            var values = [Float](repeating: 0, count: rows * cols)
            for r in 0..<rows { for c in 0..<cols { values[r * cols + c] = Float(value(r, c)) } }
            return try Tensor(values, shape: [rows, cols])
        }
        func angle(_ a: Int, _ b: Int, _ n: Int) -> Double { 2 * Double.pi * Double((a * b) % n) / Double(n) }
        rowCosine = try table(height, height) { cos(angle($0, $1, height)) }
        rowSine = try table(height, height) { sin(angle($0, $1, height)) }
        columnCosine = try table(width, columns) { cos(angle($0, $1, width)) }
        columnSine = try table(width, columns) { sin(angle($0, $1, width)) }
        let scale = 1 / Double(height * width)
        func hermitianWeight(_ l: Int) -> Double { l == 0 || (width % 2 == 0 && l == width / 2) ? 1 : 2 }
        inverseColumnCosine = try table(columns, width) { hermitianWeight($0) * scale * cos(angle($0, $1, width)) }
        inverseColumnSine = try table(columns, width) { hermitianWeight($0) * scale * sin(angle($0, $1, width)) }
    }

    /// The spectrum of real images [..., H, W]: real and imaginary parts, each [..., H, W/2+1].
    public func rfft2(_ images: Tensor) throws -> (real: Tensor, imaginary: Tensor) {
        try checkSize(images, width: width, what: "images")
        // Along the columns: Σₓ v·e^{-2πi·l·x/W}.
        let real1 = try images.matmul(columnCosine)
        let imaginary1 = try -(images.matmul(columnSine))
        // Along the rows (complex input): Σ_y (a + ib)(cos − i·sin).
        let real = try rowCosine.matmul(real1) + rowSine.matmul(imaginary1)
        let imaginary = try rowCosine.matmul(imaginary1) - rowSine.matmul(real1)
        return (real, imaginary)
    }

    /// Real images [..., H, W] from a spectrum in the layout `rfft2` produces.
    public func irfft2(real: Tensor, imaginary: Tensor) throws -> Tensor {
        try checkSize(real, width: frequencyColumns, what: "the real part")
        try checkSize(imaginary, width: frequencyColumns, what: "the imaginary part")
        // Along the rows: Σ_k (a + ib)(cos + i·sin).
        let rowsReal = try rowCosine.matmul(real) - rowSine.matmul(imaginary)
        let rowsImaginary = try rowSine.matmul(real) + rowCosine.matmul(imaginary)
        // Along the columns, keeping the real part of the Hermitian-completed sum.
        return try rowsReal.matmul(inverseColumnCosine) - rowsImaginary.matmul(inverseColumnSine)
    }

    /// |frequency| in cycles per pixel of every stored coefficient, [H, W/2+1]: row frequencies above H/2 are the
    /// negative ones.
    public func frequencyMagnitudes() throws -> [Float] {
        var values: [Float] = []
        for k in 0..<height {
            let fy = Double(k <= height / 2 ? k : k - height) / Double(height)
            for l in 0..<frequencyColumns {
                let fx = Double(l) / Double(width)
                values.append(Float((fy * fy + fx * fx).squareRoot()))
            }
        }
        return values
    }

    private func checkSize(_ tensor: Tensor, width expectedWidth: Int, what: String) throws {
        guard tensor.rank >= 2, tensor.size(-2) == height, tensor.size(-1) == expectedWidth else {
            throw InterpretError.invalidArgument(
                "\(what) must end in [\(height), \(expectedWidth)] for this basis, got \(tensor.shape)")
        }
    }
}
