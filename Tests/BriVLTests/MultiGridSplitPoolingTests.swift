import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("Multi-Grid Split pooling")
struct MultiGridSplitPoolingTests {
    /// A pooling layer whose 1×1 convolution is the identity, so region vectors are the sampled features themselves.
    private func identityPooling(channels: Int, grids: [Int], k: Int) throws -> MultiGridSplitPooling {
        let pooling = try MultiGridSplitPooling(channels: channels, grids: grids, samplesPerSide: k)
        try withNoGrad {
            var eye = [Double](repeating: 0, count: channels * channels)
            for c in 0..<channels { eye[c * channels + c] = 1 }
            try pooling.projection.weight.copyInPlace(from: Tensor(eye, shape: [channels, channels, 1, 1]))
            try pooling.projection.bias!.zeroInPlace()
        }
        return pooling
    }

    @Test("BriVL's grids give 37 regions; output rows are unit vectors")
    func shapes() throws {
        let pooling = try MultiGridSplitPooling(channels: 8, generator: Generator(seed: 1))
        #expect(pooling.regionCount == 37)
        let output = try pooling(Tensor.randn([2, 8, 12, 12], generator: Generator(seed: 2)))
        #expect(output.shape == [2, 37, 8])
        let norms = try output.norm(2, dimensions: [2]).toArray(Double.self)
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-5 })
        #expect(try MultiGridSplitPooling(channels: 4, grids: [1, 2, 3, 6]).regionCount == 50)
        // Only the 1×1 convolution is state; the sampling grid is derived from the configuration.
        #expect(pooling.stateDict().map(\.key).sorted() == ["projection.bias", "projection.weight"])
    }

    @Test("each cell of a 2×2 grid pools exactly the values of its own quadrant")
    func cellsSeeTheirOwnQuadrant() throws {
        // A 2-channel 4×4 map, constant on each quadrant: channel 0 = quadrant number + 1, channel 1 = 1.
        var values = [Double](repeating: 0, count: 2 * 16)
        for y in 0..<4 {
            for x in 0..<4 {
                values[y * 4 + x] = Double((y / 2) * 2 + x / 2 + 1)
                values[16 + y * 4 + x] = 1
            }
        }
        let features = try Tensor(values, shape: [1, 2, 4, 4]).to(.float32)
        let pooling = try identityPooling(channels: 2, grids: [2], k: 2)
        let output = try pooling(features).toArray(Double.self)
        for quadrant in 0..<4 {
            let a = Double(quadrant + 1)
            let norm = (a * a + 1).squareRoot()
            #expect(abs(output[2 * quadrant] - a / norm) < 1e-5, "quadrant \(quadrant)")
            #expect(abs(output[2 * quadrant + 1] - 1 / norm) < 1e-5, "quadrant \(quadrant)")
        }
    }

    @Test("a constant map gives the same vector for every region of every grid")
    func constantMap() throws {
        let pooling = try MultiGridSplitPooling(channels: 3, grids: [1, 2, 3], samplesPerSide: 3, generator: Generator(seed: 3))
        let output = try pooling(Tensor.ones([1, 3, 9, 9]))
        let first = try output.narrowed(dimension: 1, start: 0, length: 1)
        #expect(try output.isClose(to: first.expanded(to: [1, 14, 3]), rtol: 1e-5, atol: 1e-6))
    }

    @Test("gradients w.r.t. the feature map and the projection match finite differences")
    func gradients() throws {
        let pooling = try MultiGridSplitPooling(channels: 2, grids: [1, 2], samplesPerSide: 2, generator: Generator(seed: 4))
        try pooling.to(dtype: .float64)
        let features = try Tensor.randn([1, 2, 5, 5], dtype: .float64, generator: Generator(seed: 5))
        let parameters = pooling.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        let report = try gradientReport([("features", features)] + parameters) {
            try pooling(features)
        }
        #expect(report.passed, "\(report)")
    }

    @Test("invalid grids are refused")
    func invalid() {
        #expect(throws: ModelError.self) { try MultiGridSplitPooling(channels: 2, grids: []) }
        #expect(throws: ModelError.self) { try MultiGridSplitPooling(channels: 2, grids: [0]) }
    }
}
