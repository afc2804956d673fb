import Testing
import Torch

/// Behaviours at the edges of the API that once went wrong: each test pins the corrected behaviour.
@Suite("Edge cases")
struct EdgeCaseTests {
    @Test("integer bounds keep an int64 tensor int64, in and out of place")
    func integerClamp() throws {
        let values = try Tensor([-5, 0, 7] as [Int64])
        let clamped = try values.clamped(min: -1, max: 3)
        #expect(clamped.dtype == .int64)
        #expect(try clamped.toArray(Int64.self) == [-1, 0, 3])
        try values.clampInPlace(min: 0)
        #expect(try values.toArray(Int64.self) == [0, 0, 7])
    }

    @Test("a norm over all elements keeps every dimension when asked")
    func normKeepsDimensions() throws {
        let x = try Tensor([3.0, 4.0], shape: [1, 2])
        let norm = try x.norm(2, keepDimensions: true)
        #expect(norm.shape == [1, 1])
        #expect(try norm.item() == 5)
    }

    @Test("createGraph keeps the graph, so a second-order gradient can follow")
    func secondOrderGradient() throws {
        let x = try Tensor([1.5]).to(.float64).requiringGrad()
        let y = try x.pow(3).sum()
        let first = try #require(gradients(of: [y], withRespectTo: [x], createGraph: true)[0])
        #expect(abs(try first.item() - 3 * 1.5 * 1.5) < 1e-12)
        try first.sum().backward()  // d²(x³)/dx² = 6x
        #expect(abs(try #require(x.grad).item() - 6 * 1.5) < 1e-12)
    }

    @Test("arange picks float32 for fractional arguments and int64 for whole ones")
    func arangeDType() throws {
        let fractional = try Tensor.arange(0, 1, step: 0.25)
        #expect(fractional.dtype == .float32)
        #expect(try fractional.toArray(Float.self) == [0, 0.25, 0.5, 0.75])
        let whole = try Tensor.arange(2, 5)
        #expect(whole.dtype == .int64)
        #expect(try whole.toArray(Int.self) == [2, 3, 4])
    }

    @Test("a negative padding index counts from the end; out of range is an error")
    func negativePaddingIndex() throws {
        let weight = try Tensor.randn([4, 2], dtype: .float64).requiringGrad()
        let indices = try Tensor([3, 1] as [Int64])
        try Functional.embedding(indices, weight: weight, paddingIndex: -1).sum().backward()
        let grad = try #require(weight.grad).toArray(Double.self)
        #expect(grad == [0, 0, 1, 1, 0, 0, 0, 0])
        #expect(throws: TorchError.self) { try Functional.embedding(indices, weight: weight, paddingIndex: 4) }
    }

    @Test("wrapping memory with negative or overflowing strides is refused, not a crash")
    func invalidWrappedStrides() throws {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
        defer { memory.deallocate() }
        #expect(throws: TorchError.self) {
            try Tensor(wrapping: memory, shape: [2, 2], strides: [-1, 1], dtype: .float32) {}
        }
        #expect(throws: TorchError.self) {
            try Tensor(wrapping: memory, shape: [2, 2], strides: [Int.max / 2, 1], dtype: .float32) {}
        }
    }

    @Test("an empty tensor prints its shape")
    func emptyDescription() throws {
        #expect(try Tensor.zeros([2, 0]).description == "tensor([], shape=[2, 0])")
    }
}
