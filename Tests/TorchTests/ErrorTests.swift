import Testing
import Torch

/// Engine failures come back as `TorchError.engine` with libtorch's message; the process keeps running.
@Suite("Errors")
struct ErrorTests {
    /// Expects `body` to throw `TorchError.engine` and returns its message.
    func engineError(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) -> String {
        do {
            try body()
            Issue.record("expected TorchError.engine, nothing was thrown", sourceLocation: sourceLocation)
        } catch TorchError.engine(let message) {
            #expect(!message.isEmpty, sourceLocation: sourceLocation)
            return message
        } catch {
            Issue.record("expected TorchError.engine, got \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    /// Expects `body` to throw `TorchError.invalidArgument` and returns its message.
    func invalidArgument(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) -> String {
        do {
            try body()
            Issue.record("expected TorchError.invalidArgument, nothing was thrown", sourceLocation: sourceLocation)
        } catch TorchError.invalidArgument(let message) {
            return message
        } catch {
            Issue.record("expected TorchError.invalidArgument, got \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    @Test("matmul of [2, 3] and [4, 5] reports both shapes")
    func matmulShapes() throws {
        let a = try Tensor.zeros([2, 3])
        let b = try Tensor.zeros([4, 5])
        let message = engineError { _ = try a.matmul(b) }
        #expect(message.contains("2x3"))
        #expect(message.contains("4x5"))
        #expect(message == "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")
        #expect(engineError { _ = try a.mm(b) }.contains("2x3 and 4x5"))
        #expect(engineError { _ = try a.bmm(b) }.contains("3D"))
        // The description prefixes the kind of error.
        let error = #expect(throws: TorchError.self) { try a.matmul(b) }
        #expect(error?.description == "engine error: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")
    }

    @Test("shape errors: reshape, view, expand, cat, stack, broadcasting, permute")
    func shapeErrors() throws {
        let t = try Tensor.zeros([2, 3])
        #expect(engineError { _ = try t.reshaped([4, 2]) }.contains("[4, 2]"))
        #expect(engineError { _ = try t.reshaped([-1, -1]) }.contains("only one dimension can be inferred"))
        #expect(engineError { _ = try t.transposed().view([6]) }.contains("view size is not compatible"))
        #expect(engineError { _ = try t.expanded(to: [3, 3]) }.contains("expanded size"))
        let catMessage = engineError { _ = try Tensor.cat([t, Tensor.zeros([2, 4])]) }
        #expect(catMessage.contains("Expected size 3 but got size 4"))
        _ = engineError { _ = try Tensor.cat([]) }
        _ = engineError { _ = try Tensor.stack([t, Tensor.zeros([3, 2])]) }
        #expect(engineError { _ = try t + Tensor.zeros([4]) }.contains("must match"))
        #expect(engineError { _ = try t.permuted([0, 0]) }.contains("duplicate"))
        #expect(engineError { _ = try t.squeezed(5) }.contains("out of range"))
        #expect(engineError { _ = try t.transposed(0, 2) }.contains("out of range"))
    }

    @Test("index errors: select, narrow, gather, indexSelect, split")
    func indexErrors() throws {
        let t = try Tensor([1.0, 2.0])
        #expect(engineError { _ = try t.selected(dimension: 0, index: 5) }.contains("out of range"))
        #expect(engineError { _ = try t[2] }.contains("out of range"))
        _ = engineError { _ = try t.narrowed(dimension: 0, start: 1, length: 5) }
        #expect(engineError { _ = try t.gather(dimension: 0, index: Tensor([5])) }.contains("out of bounds"))
        _ = engineError { _ = try t.indexSelect(dimension: 0, index: Tensor([5])) }
        // Float indices are rejected.
        _ = engineError { _ = try t.indexSelect(dimension: 0, index: Tensor([0.0])) }
        #expect(engineError { _ = try Tensor.arange(5).split(sizes: [2, 2]) }.contains("sum exactly to 5"))
        #expect(engineError { _ = try t.topK(3) }.contains("out of range"))
        _ = engineError { _ = try Tensor([0.5]).oneHot(classes: 3) }
        _ = engineError { _ = try Tensor([3]).oneHot(classes: 3) }
    }

    @Test("dtype errors: requiringGrad on int64, softmax and mean of integers, bool arithmetic, where")
    func dtypeErrors() throws {
        #expect(engineError { try Tensor([1, 2]).requiringGrad() }.contains("floating point"))
        #expect(engineError { _ = try Tensor([true, false]).softmax() }.contains("Bool"))
        #expect(engineError { _ = try Tensor([1, 2]).softmax() }.contains("Long"))
        #expect(engineError { _ = try Tensor([1, 2]).mean() }.contains("floating point"))
        #expect(engineError { _ = try Tensor([true]) - Tensor([false]) }.contains("bool"))
        #expect(engineError { _ = try -Tensor([true]) }.contains("bool"))
        #expect(engineError { _ = try Tensor.where(Tensor([1.0]), Tensor([1.0]), Tensor([2.0])) }.contains("bool"))
        _ = engineError { _ = try Functional.embedding(Tensor([0.0]), weight: Tensor.zeros([3, 2])) }
        // clamped() needs at least one bound.
        #expect(engineError { _ = try Tensor([1.0]).clamped() }.contains("min' or 'max'"))
        // In-place results must fit the tensor's dtype.
        _ = engineError { try Tensor([1, 2]).addInPlace(Tensor([0.5, 0.5])) }
    }

    @Test("Tensor(values, shape:) with the wrong count throws invalidArgument")
    func wrongCount() throws {
        let message = invalidArgument { _ = try Tensor([1.0, 2.0, 3.0], shape: [2, 2]) }
        #expect(message.contains("3 values"))
        #expect(message.contains("[2, 2]"))
        _ = invalidArgument { _ = try Tensor([Float](), shape: [1]) }
        _ = invalidArgument { _ = try Tensor([1, 2], shape: [-1, -2]) }
        let error = #expect(throws: TorchError.self) { try Tensor([1.0], shape: [2]) }
        #expect(error?.description.hasPrefix("invalid argument:") == true)
    }

    @Test("argument checks before the engine: chunked(0), label smoothing, dropout, interpolation")
    func argumentChecks() throws {
        let t = try Tensor.arange(4)
        #expect(invalidArgument { _ = try t.chunked(0) }.contains("positive"))
        _ = invalidArgument { _ = try t.chunked(-2) }
        let logits = try Tensor.zeros([2, 3])
        #expect(invalidArgument {
            _ = try Functional.crossEntropy(logits: logits, targets: Tensor([0, 1]), labelSmoothing: 2)
        }.contains("2.0"))
        _ = invalidArgument {
            _ = try Functional.crossEntropy(logits: logits, targets: Tensor([0, 1]), labelSmoothing: -0.1)
        }
        #expect(invalidArgument { _ = try Functional.dropout(logits, p: 1.5, training: true) }.contains("1.5"))
        _ = invalidArgument { _ = try Functional.dropout(logits, p: -0.1, training: false) }
        _ = invalidArgument {
            _ = try Functional.interpolate(Tensor.zeros([1, 1, 4, 4]), size: (2, 2), mode: .nearest, antialias: true)
        }
        _ = invalidArgument {
            _ = try Functional.interpolate(Tensor.zeros([1, 1, 4, 4]), size: (2, 2), mode: .nearest, alignCorners: true)
        }
        let x = try Tensor([1.0]).requiringGrad()
        _ = invalidArgument { _ = try gradients(of: [x.sum()], withRespectTo: [x], gradOutputs: []) }
    }

    @Test("item() on a multi-element tensor throws")
    func itemErrors() throws {
        #expect(engineError { _ = try Tensor([1.0, 2.0]).item() }.contains("2 elements"))
        _ = engineError { _ = try Tensor([1, 2, 3]).itemInt() }
        _ = engineError { _ = try Tensor.zeros([0]).item() }
    }

    @Test("loss and layer argument errors")
    func layerErrors() throws {
        let logits = try Tensor.zeros([2, 3])
        #expect(engineError { _ = try Functional.crossEntropy(logits: logits, targets: Tensor([0, 7])) }.contains("7"))
        _ = engineError { _ = try Functional.crossEntropy(logits: logits, targets: Tensor([0, 1, 2])) }
        let conv = engineError { _ = try Functional.conv2d(Tensor.zeros([1, 3, 4, 4]), weight: Tensor.zeros([2, 2, 3, 3])) }
        #expect(conv.contains("3 channels"))
        _ = engineError { _ = try Functional.conv2d(Tensor.zeros([1, 3, 2, 2]), weight: Tensor.zeros([2, 3, 3, 3])) }
        #expect(engineError {
            _ = try Functional.layerNorm(Tensor.zeros([2, 3]), normalizedShape: [4])
        }.contains("normalized_shape"))
        _ = engineError { _ = try Functional.interpolate(Tensor.zeros([1, 4, 4]), size: (2, 2)) }
        _ = engineError { _ = try Functional.linear(Tensor.zeros([2, 3]), weight: Tensor.zeros([4, 5])) }
        _ = engineError {
            _ = try Functional.batchNorm(
                Tensor.zeros([2, 3]), weight: Tensor.ones([4]), bias: nil, runningMean: nil, runningVariance: nil,
                training: true)
        }
        _ = engineError { _ = try Functional.mseLoss(Tensor.zeros([2]), Tensor.zeros([3])) }
        _ = engineError { _ = try Functional.maxPool2d(Tensor.zeros([1, 1, 2, 2]), kernel: (3, 3)) }
    }

    @Test("autograd errors")
    func autogradErrors() throws {
        let x = try Tensor([1.0, 2.0]).requiringGrad()
        #expect(engineError { try x.exp().backward() }.contains("scalar outputs"))
        #expect(engineError { try Tensor.zeros([2]).sum().backward() }.contains("does not require grad"))
        // A graph is freed after backward unless retained.
        let y = try (x * x).sum()
        try y.backward()
        _ = engineError { try y.backward() }
        // Inference tensors cannot join autograd afterwards.
        let inference = try withInferenceMode { try Tensor.ones([2]) * 2.0 }
        #expect(engineError { try inference.requiringGrad() }.contains("inference tensor"))
        // In-place change of a leaf that requires grad, outside withNoGrad.
        #expect(engineError { try x.addInPlace(1.0) }.contains("leaf Variable"))
    }

    @Test("random creation errors")
    func randomErrors() throws {
        _ = engineError { _ = try Tensor.randint(5..<5, shape: [2]) }
        _ = engineError { _ = try Tensor.zeros([-1]) }
        _ = engineError { _ = try Tensor.randperm(-3) }
    }

    @Test("the process survives many errors in a row and keeps working")
    func manyErrors() throws {
        let a = try Tensor.zeros([2, 3])
        for _ in 0..<200 {
            #expect(throws: TorchError.self) { try a.matmul(a) }
        }
        try expectTensor(Tensor([1.0, 2.0]) * 2.0, shape: [2], [2, 4])
    }
}
