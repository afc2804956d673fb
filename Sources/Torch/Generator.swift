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
}
