import Torch

/// The outcome of comparing autograd's gradients with central finite differences.
public struct GradientReport: CustomStringConvertible, Sendable {
    public struct Element: Sendable {
        public var tensor: String
        public var index: Int
        public var analytic: Double
        public var numerical: Double
        /// |analytic − numerical| / (tolerance·(1 + |numerical|)); above 1 is a mismatch.
        public var ratio: Double
    }

    /// Elements compared, over all tensors.
    public var checked = 0
    /// Elements whose gradients disagree beyond the tolerance.
    public var mismatches = 0
    /// The element with the largest error relative to its allowance.
    public var worst: Element? = nil
    /// Names of the tensors with at least one mismatching element.
    public var mismatchedTensors: Set<String> = []

    public var passed: Bool { mismatches == 0 && checked > 0 }

    public var description: String {
        guard let worst else { return "no gradient elements compared" }
        return "\(mismatches) of \(checked) elements differ (in \(mismatchedTensors.sorted())); worst: "
            + "\(worst.tensor)[\(worst.index)] analytic \(worst.analytic) vs numerical \(worst.numerical) "
            + "(\(worst.ratio)× the tolerance)"
    }
}

/// Compares autograd with central finite differences for every element of `tensors` (float64 leaves: inputs and
/// module parameters, changed in place and restored).
///
/// The output y = f() is reduced to L = Σ y·w with fixed-seed normal weights w, so that every output element counts
/// with its own weight. dL/dt comes from `backward()`; each numerical partial is (L(t + ε) − L(t − ε)) / 2ε with the
/// element changed under no-grad. An element passes when |analytic − numerical| ≤ tolerance·(1 + |numerical|).
public func gradientReport(
    _ tensors: [(name: String, tensor: Tensor)], epsilon: Double = 1e-6, tolerance: Double = 1e-6,
    weightSeed: UInt64 = 77, _ f: () throws -> Tensor
) throws -> GradientReport {
    for (name, tensor) in tensors {
        guard tensor.dtype == .float64, tensor.isLeaf else {
            throw TorchError.invalidArgument("\(name) must be a float64 leaf, it is a \(tensor.dtype) tensor")
        }
        try tensor.requiringGrad()
        try tensor.setGrad(nil)
    }
    let output = try f()
    guard output.dtype == .float64 else {
        throw TorchError.invalidArgument("gradient checks run in float64, the function returned \(output.dtype)")
    }
    let weights = try Tensor.randn(output.shape, dtype: .float64, generator: Generator(seed: weightSeed))
    func loss() throws -> Double { try withNoGrad { try (f() * weights).sum().item() } }

    try (output * weights).sum().backward()
    var report = GradientReport()
    for (name, tensor) in tensors {
        let shape = tensor.shape
        let original = try tensor.toArray(Double.self)
        let analytic = try tensor.grad?.toArray(Double.self) ?? [Double](repeating: 0, count: original.count)
        func set(_ values: [Double]) throws {
            try withNoGrad { try tensor.copyInPlace(from: Tensor(values, shape: shape)) }
        }
        defer { try? set(original) }
        for index in original.indices {
            var shifted = original
            shifted[index] = original[index] + epsilon
            try set(shifted)
            let plus = try loss()
            shifted[index] = original[index] - epsilon
            try set(shifted)
            let minus = try loss()
            try set(original)
            let numerical = (plus - minus) / (2 * epsilon)
            let error = abs(analytic[index] - numerical)
            let ratio = error.isNaN ? Double.infinity : error / (tolerance * (1 + abs(numerical)))
            report.checked += 1
            if ratio > 1 {
                report.mismatches += 1
                report.mismatchedTensors.insert(name)
            }
            if report.worst == nil || ratio > report.worst!.ratio {
                report.worst = .init(
                    tensor: name, index: index, analytic: analytic[index], numerical: numerical, ratio: ratio)
            }
        }
    }
    return report
}

/// The same check for a function of fresh inputs: each input is copied into a float64 leaf named "input N" and
/// passed to `f`.
public func gradientReport(
    _ inputs: [Tensor], epsilon: Double = 1e-6, tolerance: Double = 1e-6, weightSeed: UInt64 = 77,
    _ f: ([Tensor]) throws -> Tensor
) throws -> GradientReport {
    let leaves = try inputs.map { try $0.detach().to(dtype: .float64, copy: true) }
    let named = leaves.enumerated().map { (name: "input \($0.offset)", tensor: $0.element) }
    return try gradientReport(named, epsilon: epsilon, tolerance: tolerance, weightSeed: weightSeed) { try f(leaves) }
}
