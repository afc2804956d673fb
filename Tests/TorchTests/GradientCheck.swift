import Testing
import GradientChecking
import Torch

/// Runs ``gradientReport(_:epsilon:tolerance:weightSeed:_:)`` and records a test issue, naming the worst
/// element, when autograd and finite differences disagree.
@discardableResult
func checkGradients(
    _ inputs: [Tensor], tolerance: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor]) throws -> Tensor
) throws -> GradientReport {
    let report = try gradientReport(inputs, tolerance: tolerance, f)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    return report
}

/// Gradient check of a one-input function.
@discardableResult
func checkGradients(
    _ input: Tensor, tolerance: Double = 1e-6, sourceLocation: SourceLocation = #_sourceLocation,
    _ f: (Tensor) throws -> Tensor
) throws -> GradientReport {
    try checkGradients([input], tolerance: tolerance, sourceLocation: sourceLocation) { try f($0[0]) }
}

@Suite("Gradient check helper")
struct GradientCheckHelperTests {
    @Test("passes for a function with a correct gradient")
    func passesForCorrectGradient() throws {
        let x = try uniformInput([2, 3], seed: 1)
        let report = try gradientReport([x]) { try $0[0] * $0[0] * $0[0] }
        #expect(report.passed, "\(report)")
        #expect(report.checked == 6)
        #expect((report.worst?.ratio ?? .infinity) < 0.1)
    }

    @Test("detects a gradient broken by detach()")
    func detectsWrongGradient() throws {
        let x = try uniformInput([2, 3], seed: 2, low: 0.5, high: 1.5)
        // Forward is x², but autograd only sees one factor, so it reports x instead of 2x.
        let report = try gradientReport([x]) { try $0[0] * $0[0].detach() }
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
        let report = try gradientReport([a, b]) { try $0[0] + $0[1].detach() }
        #expect(report.mismatches == 4)
        #expect(report.mismatchedTensors == ["input 1"])
        #expect(report.worst?.tensor == "input 1")
    }

    @Test("weights make every output element matter")
    func weightsCoverEveryOutput() throws {
        // A gradient wrong only through the last output element must still be caught.
        let x = try uniformInput([4], seed: 6, low: 1, high: 2)
        let report = try gradientReport([x]) { inputs in
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
        #expect(throws: TorchError.self) {
            try gradientReport([x]) { try $0[0].to(.float32) }
        }
    }
}
