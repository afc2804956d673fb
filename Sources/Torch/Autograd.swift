import CTorch

// Reverse-mode automatic differentiation.
extension Tensor {
    /// Accumulates d(self)/d(leaf) into every leaf's `grad`. `self` must be a scalar unless `gradient` is given.
    /// The graph is freed afterwards unless `retainGraph` (which defaults to `createGraph`, as in PyTorch).
    public func backward(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) throws {
        try check(ct_backward(handle, gradient?.handle, retainGraph ?? createGraph, createGraph))
    }

    /// The accumulated gradient, or nil before any backward pass reached this tensor.
    public var grad: Tensor? {
        var out: ct_tensor? = nil
        guard ct_grad(&out, handle) == 0, let out else { return nil }
        return Tensor(handle: out)
    }

    /// Replaces the accumulated gradient; nil clears it (as optimizers' zero-grad does).
    public func setGrad(_ gradient: Tensor?) throws {
        try check(ct_set_grad(handle, gradient?.handle))
    }
}

/// Gradients of `outputs` with respect to `inputs`, without touching `.grad` (torch.autograd.grad).
///
/// - Parameters:
///   - gradOutputs: the vector in the vector–Jacobian product, one per output (nil entries for scalar outputs).
///   - allowUnused: return nil for inputs the outputs do not depend on instead of throwing.
/// - Returns: one gradient per input.
public func gradients(
    of outputs: [Tensor], withRespectTo inputs: [Tensor], gradOutputs: [Tensor?]? = nil, retainGraph: Bool? = nil,
    createGraph: Bool = false, allowUnused: Bool = false
) throws -> [Tensor?] {
    let retainGraph = retainGraph ?? createGraph
    if let gradOutputs, gradOutputs.count != outputs.count {
        throw TorchError.invalidArgument("\(gradOutputs.count) output gradients for \(outputs.count) outputs")
    }
    let seeds: [ct_tensor?]? = gradOutputs?.map { $0?.handle }
    var results = [ct_tensor?](repeating: nil, count: inputs.count)
    try withHandles(outputs) { outputHandles in
        try withHandles(inputs) { inputHandles in
            try withExtendedLifetime(gradOutputs) {
                try check(
                    results.withUnsafeMutableBufferPointer { resultBuffer in
                        if let seeds {
                            return seeds.withUnsafeBufferPointer { seedBuffer in
                                ct_autograd_grad(
                                    resultBuffer.baseAddress, outputHandles.baseAddress, Int64(outputs.count),
                                    inputHandles.baseAddress, Int64(inputs.count), seedBuffer.baseAddress, retainGraph,
                                    createGraph, allowUnused)
                            }
                        }
                        return ct_autograd_grad(
                            resultBuffer.baseAddress, outputHandles.baseAddress, Int64(outputs.count),
                            inputHandles.baseAddress, Int64(inputs.count), nil, retainGraph, createGraph, allowUnused)
                    })
            }
        }
    }
    return results.map { $0.map(Tensor.init(handle:)) }
}

/// Whether operations on this thread are being recorded for autograd.
public var isGradEnabled: Bool { ct_is_grad_enabled() }

/// Runs `body` without recording operations for autograd (on this thread), restoring the previous mode after.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_is_grad_enabled()
    ct_set_grad_enabled(false)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` with gradient recording on, even inside `withNoGrad`.
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ct_is_grad_enabled()
    ct_set_grad_enabled(true)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` in inference mode: no autograd recording and no version counting, the fastest way to evaluate.
/// Tensors created inside cannot later take part in autograd. `body` must not leave the calling thread.
public func withInferenceMode<R>(_ body: () throws -> R) throws -> R {
    var guardHandle: ct_guard? = nil
    try check(ct_inference_mode_enter(&guardHandle))
    defer { ct_guard_free(guardHandle) }
    return try body()
}
