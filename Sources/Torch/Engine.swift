import CTorch

/// Process-wide settings and facts about the linked libtorch.
public enum Engine {
    /// The engine's own build description (compiler, BLAS, CPU capability, CUDA) with its version.
    public static func buildConfiguration() throws -> String {
        var text: UnsafeMutablePointer<CChar>? = nil
        try check(ct_build_config(&text))
        defer { ct_free_string(text) }
        return String(cString: text!)
    }

    /// The linked libtorch's major and minor version.
    public static var version: (major: Int, minor: Int) {
        (Int(ct_version_major()), Int(ct_version_minor()))
    }

    /// Intra-op threads used by CPU kernels.
    public static var threadCount: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Seeds the global generator (used by dropout and by random calls without an explicit generator).
    public static func seed(_ value: UInt64) {
        ct_manual_seed(value)
    }

    /// The global CPU generator's whole state as a uint8 CPU tensor (see ``Generator/state()``). Together with the
    /// explicit generators' states it is what a checkpoint needs for dropout masks and unseeded draws to continue
    /// exactly after a resume. CUDA generators are not included.
    public static func randomState() throws -> Tensor {
        try Tensor.make { ct_generator_get_state($0, nil) }
    }

    /// Continues the global CPU generator from a state returned by ``randomState()``.
    public static func restoreRandomState(_ state: Tensor) throws {
        try check(ct_generator_set_state(nil, state.handle))
    }

    public static var isCUDAAvailable: Bool { ct_cuda_is_available() }

    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }

    /// Waits for queued CUDA work (a no-op without CUDA); needed before reading a clock around GPU work.
    public static func synchronize() throws {
        try check(ct_cuda_synchronize())
    }
}
