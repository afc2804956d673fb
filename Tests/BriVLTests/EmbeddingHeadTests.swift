import Foundation
import GradientChecking
import Testing
import Torch
import TorchNN

@testable import BriVL

@Suite("Tower embedding head")
struct EmbeddingHeadTests {
    private let configuration = EmbeddingHeadConfiguration(
        inputSize: 8, layerCount: 2, headCount: 2, feedForwardSize: 16, projectionSizes: [12, 6])

    @Test("outputs unit vectors of the joint width; the configuration round-trips as snake_case JSON")
    func shapes() throws {
        let head = try EmbeddingHead(configuration, generator: Generator(seed: 1))
        let output = try head(Tensor.randn([3, 5, 8], generator: Generator(seed: 2)))
        #expect(output.shape == [3, 6])
        #expect(try output.norm(2, dimensions: [1]).toArray(Double.self).allSatisfy { abs($0 - 1) < 1e-5 })
        let json = try JSONEncoder().encode(configuration)
        #expect(String(decoding: json, as: UTF8.self).contains("\"projection_sizes\""))
        #expect(try JSONDecoder().decode(EmbeddingHeadConfiguration.self, from: json) == configuration)
    }

    @Test("padding positions change nothing: a padded set embeds like the unpadded one")
    func paddingIsIgnored() throws {
        let head = try EmbeddingHead(configuration, generator: Generator(seed: 3))
        head.eval()
        let real = try Tensor.randn([1, 3, 8], generator: Generator(seed: 4))
        let padded = try Tensor.cat([real, Tensor.randn([1, 2, 8], generator: Generator(seed: 5)) * 50], dimension: 1)
        let mask = try Tensor([false, false, false, true, true], shape: [1, 5])
        let expected = try head(real)
        #expect(try head(padded, paddingMask: mask).isClose(to: expected, rtol: 1e-4, atol: 1e-5))
        #expect(try !head(padded).isClose(to: expected, rtol: 1e-4, atol: 1e-5))
    }

    @Test("gradients w.r.t. the inputs and every parameter match finite differences")
    func gradients() throws {
        let small = EmbeddingHeadConfiguration(
            inputSize: 4, layerCount: 1, headCount: 2, feedForwardSize: 6, projectionSizes: [5, 3])
        let head = try EmbeddingHead(small, generator: Generator(seed: 6))
        try head.to(dtype: .float64)
        let vectors = try Tensor.randn([2, 3, 4], dtype: .float64, generator: Generator(seed: 7))
        let mask = try Tensor([false, false, true, false, false, false], shape: [2, 3])
        let parameters = head.namedParameters().map { (name: $0.key, tensor: $0.tensor) }
        let report = try gradientReport([("vectors", vectors)] + parameters) { try head(vectors, paddingMask: mask) }
        #expect(report.passed, "\(report)")
    }
}
