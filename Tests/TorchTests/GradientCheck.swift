import Testing
import Torch

/// The outcome of comparing autograd's gradients with central finite differences.
struct GradientCheckReport: CustomStringConvertible {
    struct Element {
        var input: Int
        var index: Int
        var analytic: Double
        var numerical: Double
        /// |analytic − numerical| / (atol + rtol·|numerical|); above 1 is a mismatch.
        var ratio: Double
    }

    /// Elements compared, over all inputs.
    var checked = 0
    /// Elements whose gradients disagree beyond the tolerance.
    var mismatches = 0
    /// The element with the largest error relative to its allowance.
    var worst: Element? = nil

    var passed: Bool { mismatches == 0 && checked > 0 }

    var description: String {
        guard let worst else { return "no gradient elements compared" }
        return "\(mismatches) of \(checked) gradient elements differ; worst: input \(worst.input) element \(worst.index) "
            + "analytic \(worst.analytic) vs numerical \(worst.numerical) (\(worst.ratio)× the tolerance)"
    }
}

enum GradientCheckError: Error, CustomStringConvertible {
    case notFloat64(DType)

    var description: String {
        switch self {
        case .notFloat64(let dtype): return "gradient checks run in float64, the function returned \(dtype)"
        }
    }
}

/// Compares the gradients autograd computes for `f` at `inputs` with central finite differences, in float64.
///
/// Each input is copied into a new float64 leaf that requires grad. The output y = f(leaves) is reduced to the
/// scalar Σ y·w with fixed-seed random weights w (so every output element matters, with its own weight), then
/// differentiated with `backward()`. Each numerical partial derivative is (L(x + ε) − L(x − ε)) / 2ε with the one
/// element perturbed in a tensor rebuilt from a Swift array. An element passes when
/// |analytic − numerical| ≤ tolerance·(1 + |numerical|).
func gradientCheckReport(
    _ inputs: [Tensor], tolerance: Double = 1e-6, epsilon: Double = 1e-6, weightSeed: UInt64 = 20_240_229,
    _ f: ([Tensor]) throws -> Tensor
) throws -> GradientCheckReport {
    let shapes = inputs.map(\.shape)
    let values: [[Double]] = try inputs.map { try $0.toArray(Double.self) }
    let leaves = try zip(values, shapes).map { try Tensor($0, shape: $1).requiringGrad() }

    let output = try f(leaves)
    guard output.dtype == .float64 else { throw GradientCheckError.notFloat64(output.dtype) }
    let weights = try Tensor.randn(output.shape, dtype: .float64, generator: Generator(seed: weightSeed))

    func weightedSum(_ y: Tensor) throws -> Tensor { try (y * weights).sum() }

    try weightedSum(output).backward()
    let analytic: [[Double]] = try leaves.enumerated().map { i, leaf in
        try leaf.grad?.toArray(Double.self) ?? [Double](repeating: 0, count: values[i].count)
    }

    // Evaluates the weighted sum with input `input` replaced by `perturbed`.
    func loss(replacing input: Int, with perturbed: [Double]) throws -> Double {
        try withNoGrad {
            var arguments = try zip(values, shapes).map { try Tensor($0, shape: $1) }
            arguments[input] = try Tensor(perturbed, shape: shapes[input])
            return try weightedSum(f(arguments)).item()
        }
    }

    var report = GradientCheckReport()
    for input in values.indices {
        for index in values[input].indices {
            var shifted = values[input]
            shifted[index] = values[input][index] + epsilon
            let plus = try loss(replacing: input, with: shifted)
            shifted[index] = values[input][index] - epsilon
            let minus = try loss(replacing: input, with: shifted)
            let numerical = (plus - minus) / (2 * epsilon)
            let exact = analytic[input][index]
            let error = Swift.abs(exact - numerical)
            let ratio = error.isNaN ? Double.infinity : error / (tolerance * (1 + Swift.abs(numerical)))
            report.checked += 1
            if ratio > 1 { report.mismatches += 1 }
            if report.worst == nil || ratio > report.worst!.ratio {
                report.worst = .init(input: input, index: index, analytic: exact, numerical: numerical, ratio: ratio)
            }
        }
    }
    return report
}

/// Runs ``gradientCheckReport(_:tolerance:epsilon:weightSeed:_:)`` and records a test issue, naming the worst
/// element, when autograd and finite differences disagree.
@discardableResult
func checkGradients(
    _ inputs: [Tensor], tolerance: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws -> GradientCheckReport {
    let report = try gradientCheckReport(inputs, tolerance: tolerance, f)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    return report
}

/// Gradient check of a one-input function.
@discardableResult
func checkGradients(
    _ input: Tensor, tolerance: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: (Tensor) throws -> Tensor
) throws -> GradientCheckReport {
    try checkGradients([input], tolerance: tolerance, sourceLocation: sourceLocation) { try f($0[0]) }
}

@Suite("Gradient check helper")
struct GradientCheckHelperTests {
    @Test("passes for a function with a correct gradient")
    func passesForCorrectGradient() throws {
        let x = try uniformInput([2, 3], seed: 1)
        let report = try gradientCheckReport([x]) { try $0[0] * $0[0] * $0[0] }
        #expect(report.passed, "\(report)")
        #expect(report.checked == 6)
        #expect((report.worst?.ratio ?? .infinity) < 0.1)
    }

    @Test("detects a gradient broken by detach()")
    func detectsWrongGradient() throws {
        let x = try uniformInput([2, 3], seed: 2, low: 0.5, high: 1.5)
        // Forward is x², but autograd only sees one factor, so it reports x instead of 2x.
        let report = try gradientCheckReport([x]) { try $0[0] * $0[0].detach() }
        #expect(!report.passed)
        #expect(report.mismatches == 6)
        let worst = try #require(report.worst)
        #expect(Swift.abs(worst.numerical - 2 * worst.analytic) < 1e-6 * Swift.abs(worst.numerical) + 1e-9)
        #expect(report.description.contains("analytic"))
    }

    @Test("checkGradients records an issue on a mismatch")
    func checkGradientsRecordsIssue() throws {
        let x = try uniformInput([3], seed: 3, low: 0.5, high: 1.5)
        withKnownIssue {
            try checkGradients(x) { try $0.exp() * $0.detach() }
        }
    }

    @Test("detects a gradient that misses one input")
    func detectsMissingInputGradient() throws {
        let a = try uniformInput([2, 2], seed: 4)
        let b = try uniformInput([2, 2], seed: 5)
        let report = try gradientCheckReport([a, b]) { try $0[0] + $0[1].detach() }
        #expect(report.mismatches == 4)
        #expect(report.worst?.input == 1)
    }

    @Test("weights make every output element matter")
    func weightsCoverEveryOutput() throws {
        // A gradient wrong only through the last output element must still be caught.
        let x = try uniformInput([4], seed: 6, low: 1, high: 2)
        let report = try gradientCheckReport([x]) { inputs in
            let head = try inputs[0].narrowed(dimension: 0, start: 0, length: 3) * 2
            let tail = try inputs[0].narrowed(dimension: 0, start: 3, length: 1).detach() * inputs[0].narrowed(
                dimension: 0, start: 3, length: 1)
            return try Tensor.cat([head, tail])
        }
        #expect(report.mismatches == 1)
        #expect(report.worst?.index == 3)
    }

    @Test("refuses float32 outputs")
    func refusesFloat32() throws {
        let x = try uniformInput([2], seed: 7)
        #expect(throws: GradientCheckError.self) {
            try gradientCheckReport([x]) { try $0[0].to(.float32) }
        }
    }
}
