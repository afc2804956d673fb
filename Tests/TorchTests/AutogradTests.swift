import Foundation
import Testing
import Torch

private struct Marker: Error {}

@Suite("Autograd")
struct AutogradTests {
    @Test("backward fills .grad of leaves: d(x²)/dx = 2x")
    func backward() throws {
        let x = try Tensor([1.0, -2.0, 3.0]).requiringGrad()
        #expect(x.requiresGrad)
        #expect(x.isLeaf)
        #expect(x.grad == nil)
        let y = try (x * x).sum()
        #expect(y.requiresGrad)
        #expect(!y.isLeaf)
        try y.backward()
        try expectTensor(#require(x.grad), shape: [3], [2, -4, 6])
        // A non-leaf keeps no gradient.
        #expect(y.grad == nil)
    }

    @Test("backward accumulates across calls and setGrad(nil) clears it")
    func accumulation() throws {
        let x = try Tensor([1.0, 2.0]).requiringGrad()
        try (x * x).sum().backward()
        try (x * 3.0).sum().backward()
        try expectTensor(#require(x.grad), shape: [2], [2 + 3, 4 + 3])
        try x.setGrad(nil)
        #expect(x.grad == nil)
        try x.exp().sum().backward()
        try expectTensor(#require(x.grad), shape: [2], [exp(1.0), exp(2.0)])
        // setGrad replaces.
        try x.setGrad(Tensor([10.0, 20.0]))
        try expectTensor(#require(x.grad), shape: [2], [10, 20])
        try x.sum().backward()
        try expectTensor(#require(x.grad), shape: [2], [11, 21])
    }

    @Test("backward with an explicit output gradient and retainGraph")
    func backwardOptions() throws {
        let x = try Tensor([1.0, 2.0, 3.0]).requiringGrad()
        let y = try x * x
        try y.backward(gradient: Tensor([1.0, 0.5, -1.0]), retainGraph: true)
        try expectTensor(#require(x.grad), shape: [3], [2, 2, -6])
        // The retained graph can be used again; gradients accumulate.
        try y.backward(gradient: Tensor([1.0, 1.0, 1.0]))
        try expectTensor(#require(x.grad), shape: [3], [4, 6, 0])
    }

    @Test("gradients(of:withRespectTo:) returns gradients without touching .grad")
    func functionalGradients() throws {
        let x = try Tensor([1.0, 2.0, 3.0]).requiringGrad()
        let w = try Tensor([0.5, -1.0, 2.0]).requiringGrad()
        let y = try (x * x * w).sum()
        let grads = try gradients(of: [y], withRespectTo: [x, w])
        #expect(grads.count == 2)
        // ∂/∂x = 2xw, ∂/∂w = x²
        try expectTensor(#require(grads[0]), shape: [3], [1, -4, 12])
        try expectTensor(#require(grads[1]), shape: [3], [1, 4, 9])
        #expect(x.grad == nil)
        #expect(w.grad == nil)

        // A vector–Jacobian product for a non-scalar output.
        let z = try x * x
        let vjp = try gradients(of: [z], withRespectTo: [x], gradOutputs: [Tensor([1.0, 10.0, 100.0])])
        try expectTensor(#require(vjp[0]), shape: [3], [2, 40, 600])
    }

    @Test("gradients(of:withRespectTo:) with unused inputs")
    func unusedInputs() throws {
        let x = try Tensor([1.0, 2.0]).requiringGrad()
        let unused = try Tensor([5.0]).requiringGrad()
        let y = try x.exp().sum()
        let grads = try gradients(of: [y], withRespectTo: [x, unused], retainGraph: true, allowUnused: true)
        try expectTensor(#require(grads[0]), shape: [2], [exp(1.0), exp(2.0)])
        #expect(grads[1] == nil)
        #expect(throws: TorchError.self) { try gradients(of: [y], withRespectTo: [x, unused]) }
    }

    @Test("second derivatives through createGraph")
    func secondOrder() throws {
        let x = try Tensor([1.0, 2.0, -1.0]).requiringGrad()
        let y = try x.pow(3).sum()
        let first = try #require(gradients(of: [y], withRespectTo: [x], createGraph: true)[0])
        try expectTensor(first, shape: [3], [3, 12, 3])
        #expect(first.requiresGrad)
        let second = try #require(gradients(of: [first.sum()], withRespectTo: [x])[0])
        try expectTensor(second, shape: [3], [6, 12, -6])
    }

    @Test("detach cuts the graph")
    func detach() throws {
        let x = try Tensor([2.0]).requiringGrad()
        let y = try x * x.detach()
        #expect(try !x.detach().requiresGrad)
        try y.backward()
        try expectTensor(#require(x.grad), shape: [1], [2])
    }

    @Test("requiringGrad(false) turns recording off")
    func requiringGradOff() throws {
        let x = try Tensor([1.0]).requiringGrad()
        try x.requiringGrad(false)
        #expect(!x.requiresGrad)
        #expect(try !(x * 2.0).requiresGrad)
    }

    @Test("withNoGrad: results do not require grad and the mode is restored")
    func noGrad() throws {
        let x = try Tensor([1.0, 2.0]).requiringGrad()
        #expect(isGradEnabled)
        let y = try withNoGrad {
            #expect(!isGradEnabled)
            return try x * 2.0
        }
        #expect(!y.requiresGrad)
        #expect(isGradEnabled)
        #expect(try (x * 2.0).requiresGrad)

        // Restored even when the body throws.
        #expect(throws: Marker.self) {
            try withNoGrad {
                #expect(!isGradEnabled)
                throw Marker()
            }
        }
        #expect(isGradEnabled)

        // Nesting: withGrad inside withNoGrad records again; leaving restores each level.
        try withNoGrad {
            let inner = try withGrad {
                #expect(isGradEnabled)
                return try x * 3.0
            }
            #expect(inner.requiresGrad)
            #expect(!isGradEnabled)
            let nested = withNoGrad { isGradEnabled }
            #expect(!nested)
            #expect(!isGradEnabled)
        }
        #expect(isGradEnabled)

        // In-place updates of leaves inside withNoGrad are allowed and not recorded.
        try withNoGrad { try x.addInPlace(Tensor([1.0, 1.0])) }
        try expectTensor(x, shape: [2], [2, 3])
        #expect(x.isLeaf)
    }

    @Test("withInferenceMode: no recording, and its tensors cannot join autograd later")
    func inferenceMode() throws {
        let x = try Tensor([1.0, 2.0]).requiringGrad()
        let y = try withInferenceMode {
            #expect(!isGradEnabled)
            return try x * 2.0
        }
        #expect(!y.requiresGrad)
        try expectTensor(y, shape: [2], [2, 4])
        #expect(isGradEnabled)
        #expect(throws: TorchError.self) { try y.requiringGrad() }
        // Also restored when the body throws.
        #expect(throws: Marker.self) { try withInferenceMode { throw Marker() } }
        #expect(isGradEnabled)
        #expect(try (x * 2.0).requiresGrad)
    }

    @Test("requiringGrad on an integer tensor throws")
    func integerRequiresGrad() throws {
        let ints = try Tensor([1, 2])
        let message = engineMessage(#expect(throws: TorchError.self) { try ints.requiringGrad() })
        #expect(message?.contains("floating point") == true)
        #expect(!ints.requiresGrad)
    }

    @Test("a gradient flowing through views reaches the base")
    func viewsInGraph() throws {
        let x = try Tensor([1.0, 2.0, 3.0, 4.0]).requiringGrad()
        let m = try x.reshaped([2, 2])
        let y = try (m[0] * m[1]).sum() + m.transposed()[0].sum()
        try y.backward()
        // y = x0·x2 + x1·x3 + x0 + x2
        try expectTensor(#require(x.grad), shape: [4], [3 + 1, 4, 1 + 1, 2])
    }

    @Test("dropout gradient is the mask scaled by 1/(1 − p)")
    func dropoutGradient() throws {
        let x = try Tensor.ones([1000], dtype: .float64).requiringGrad()
        let y = try Functional.dropout(x, p: 0.25, training: true)
        try y.sum().backward()
        // With x = 1 the output equals the gradient: 0 where dropped, 1/(1 − p) elsewhere.
        let grad = try #require(x.grad).toArray(Double.self)
        #expect(try y.detach().toArray(Double.self) == grad)
        #expect(grad.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3) < 1e-12 })
    }
}
