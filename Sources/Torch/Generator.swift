import CTorch

/// A seeded random-number generator (CPU Philox/MT state of the engine). Draws through a generator are
/// reproducible: the same seed gives the same values, on every device.
public final class Generator: @unchecked Sendable {
    let handle: ct_generator

    public init(seed: UInt64) throws {
        var out: ct_generator? = nil
        try check(ct_generator_new(&out, seed))
        handle = out!
    }

    deinit {
        ct_generator_free(handle)
    }

    /// Restarts the sequence from `seed`.
    public func reseed(_ seed: UInt64) throws {
        try check(ct_generator_set_seed(handle, seed))
    }

    /// The generator's whole state as a uint8 CPU tensor: seed, position in the sequence and any cached normal
    /// sample. Unlike the seed alone, it lets a resumed run continue the sequence exactly where it was saved.
    public func state() throws -> Tensor {
        try Tensor.make { ct_generator_get_state($0, handle) }
    }

    /// Continues from a state returned by ``state()`` (possibly in another process). The engine rejects a tensor
    /// that is not a uint8 CPU tensor of its state size, so a foreign or truncated state is an error, not a crash.
    public func restore(_ state: Tensor) throws {
        try check(ct_generator_set_state(handle, state.handle))
    }
}
