import Foundation
import Testing
import Torch
import GradientChecking
import TorchNN

/// Gradient check of `module`'s forward with respect to `inputs` and every parameter of the module.
@discardableResult
func checkModuleGradients(
    _ module: Module, inputs: [(name: String, tensor: Tensor)], sourceLocation: SourceLocation = #_sourceLocation,
    _ f: () throws -> Tensor
) throws -> GradientReport {
    let parameters = module.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
    let report = try gradientReport(inputs + parameters, f)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    #expect(
        report.checked == inputs.reduce(0) { $0 + $1.tensor.count } + module.parameterCount,
        sourceLocation: sourceLocation)
    return report
}

/// A float64 module with seeded, jittered parameters.
func float64Module<M: Module>(_ build: (Generator) throws -> M, seed: UInt64 = 5) throws -> M {
    let module = try build(Generator(seed: seed))
    try module.to(dtype: .float64)
    try jitterParameters(of: module, seed: seed + 1000)
    return module
}

@Suite("Finite-difference gradients")
struct GradientTests {
    @Test("the helper passes a correct gradient and reports a detached one")
    func helperDetectsWrongGradients() throws {
        let x = try normalTensor([2, 3], seed: 1)
        let good = try gradientReport([("x", x)]) { try x * x }
        #expect(good.passed, "\(good)")
        #expect(good.checked == 6)

        // x · detach(x): autograd sees d/dx = x, the true derivative is 2x.
        let bad = try gradientReport([("x", x)]) { try x * x.detach() }
        #expect(!bad.passed)
        #expect(bad.mismatches == 6, "\(bad)")
        let worst = try #require(bad.worst)
        #expect(Swift.abs(worst.numerical - 2 * worst.analytic) < 1e-6 * (1 + Swift.abs(worst.numerical)))

        // A layer whose weight is detached in the forward: its gradient is missing, the input's is right.
        let layer = try float64Module { try Linear(3, 2, generator: $0) }
        let report = try gradientReport([("x", x), ("weight", layer.weight)]) {
            try Functional.linear(x, weight: layer.weight.detach(), bias: layer.bias)
        }
        #expect(report.mismatchedTensors == ["weight"], "\(report)")
    }

    @Test("Linear")
    func linear() throws {
        let layer = try float64Module { try Linear(3, 4, generator: $0) }
        let x = try normalTensor([2, 3], seed: 2)
        try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x) }
    }

    @Test("Conv2d with stride 2, padding 1, 2 groups")
    func conv2d() throws {
        let layer = try float64Module { try Conv2d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, generator: $0) }
        let x = try normalTensor([1, 4, 5, 5], seed: 3)
        try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x) }
    }

    @Test("LayerNorm")
    func layerNorm() throws {
        let layer = try float64Module { _ in try LayerNorm(5) }
        let x = try normalTensor([2, 3, 5], seed: 4, scale: 2)
        try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x) }
    }

    @Test("BatchNorm2d in training mode")
    func batchNorm() throws {
        let layer = try float64Module { _ in try BatchNorm2d(2) }
        layer.train()
        let x = try normalTensor([3, 2, 2, 2], seed: 5, scale: 1.5)
        try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x) }
    }

    @Test("Embedding weights, repeated indices accumulating")
    func embedding() throws {
        let layer = try float64Module { try Embedding(5, 3, generator: $0) }
        let indices = try Tensor([0, 2, 2, 4, 1, 2] as [Int64], shape: [2, 3])
        try checkModuleGradients(layer, inputs: []) { try layer(indices) }
    }

    @Test("Embedding with a padding index: no gradient reaches the padding row")
    func embeddingPadding() throws {
        let layer = try float64Module { try Embedding(4, 2, paddingIndex: 0, generator: $0) }
        let indices: [Int64] = [1, 0, 3, 1]
        let y = try layer(Tensor(indices, shape: [2, 2]))
        let weights = try normalTensor([2, 2, 2], seed: 6)
        try (y * weights).sum().backward()
        let w = try weights.toArray(Double.self)
        var expected = [Double](repeating: 0, count: 8)
        for (position, index) in indices.enumerated() where index != 0 {
            for d in 0..<2 { expected[Int(index) * 2 + d] += w[position * 2 + d] }
        }
        let gradient = try #require(layer.weight.grad)
        expectClose(try gradient.toArray(Double.self), expected, tolerance: 1e-15, "embedding gradient")
        #expect(expected[2] != 0 && expected[6] != 0)
    }

    @Test("MLP [4, 6, 3] with GELU")
    func mlp() throws {
        let mlp = try float64Module { try MLP(sizes: [4, 6, 3], activation: .gelu, generator: $0) }
        let x = try normalTensor([2, 4], seed: 7)
        try checkModuleGradients(mlp, inputs: [("x", x)]) { try mlp(x) }
    }

    @Test("MultiHeadAttention with a key padding mask")
    func multiHeadAttention() throws {
        let layer = try float64Module { try MultiHeadAttention(dimension: 4, heads: 2, generator: $0) }
        let x = try normalTensor([2, 3, 4], seed: 8)
        let mask = try Tensor([false, false, true, false, false, false], shape: [2, 3])
        let report = try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x, keyPaddingMask: mask) }
        #expect(report.checked == 24 + 80)
    }

    @Test("MultiHeadAttention: padded keys and values get no gradient")
    func paddedPositionsGetNoGradient() throws {
        let layer = try float64Module { try MultiHeadAttention(dimension: 4, heads: 2, generator: $0) }
        let queries = try normalTensor([1, 2, 4], seed: 9).requiringGrad()
        let keys = try normalTensor([1, 3, 4], seed: 10).requiringGrad()
        let mask = try Tensor([false, true, false], shape: [1, 3])
        try layer(queries, keys: keys, keyPaddingMask: mask).sum().backward()
        let gradient = try #require(keys.grad)
        let padded = try gradient[0][1].abs().sum().item()
        let unpadded = try gradient[0][0].abs().sum().item()
        #expect(padded == 0)
        #expect(unpadded > 1e-6)
    }

    @Test("TransformerEncoderLayer", arguments: [true, false])
    func encoderLayer(normFirst: Bool) throws {
        let layer = try float64Module {
            try TransformerEncoderLayer(
                dimension: 4, heads: 2, feedForwardDimension: 8, activation: .gelu, normFirst: normFirst, generator: $0)
        }
        let x = try normalTensor([2, 3, 4], seed: 11)
        let mask = try Tensor([false, false, true, false, false, false], shape: [2, 3])
        let report = try checkModuleGradients(layer, inputs: [("x", x)]) { try layer(x, keyPaddingMask: mask) }
        #expect(report.checked == 24 + 172)
    }
}
