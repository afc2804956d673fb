import Foundation

extension Engine {
    /// Shared libraries providing BLAS/LAPACK that are loaded in this process (after the engine has run a
    /// matrix product), resolved through symlinks, e.g. ".../openblas-openmp/libblas.so.3".
    public static func loadedBLASLibraries() -> [String] {
        // /proc files report a size of zero, so read to the end rather than by size.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/maps"), let data = try? file.readToEnd() else {
            return []
        }
        let maps = String(decoding: data, as: UTF8.self)
        let names = ["blas", "lapack", "mkl", "accelerate"]
        var libraries: [String] = []
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init),
                path.hasPrefix("/")
            else { continue }
            let file = (path as NSString).lastPathComponent.lowercased()
            guard names.contains(where: file.contains) else { continue }
            let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map {
                $0.hasPrefix("/") ? $0 : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent($0)
            } ?? path
            if !libraries.contains(resolved) { libraries.append(resolved) }
        }
        return libraries
    }

    /// Measures float32 matrix-product throughput for about `seconds` of wall time.
    /// - Returns: GFLOP/s counting 2·n³ operations per n×n product.
    public static func measureMatmulThroughput(size: Int = 1024, seconds: Double = 1, device: Device = .cpu) throws
        -> Double
    {
        let generator = try Generator(seed: 0)
        let a = try Tensor.randn([size, size], device: device, generator: generator)
        let b = try Tensor.randn([size, size], device: device, generator: generator)
        _ = try withInferenceMode { try a.matmul(b) }
        try synchronize()
        var products = 0
        let clock = ContinuousClock()
        let start = clock.now
        var elapsed = 0.0
        try withInferenceMode {
            while elapsed < seconds {
                _ = try a.matmul(b)
                try synchronize()
                products += 1
                elapsed = (clock.now - start).seconds
            }
        }
        return Double(products) * 2 * pow(Double(size), 3) / elapsed / 1e9
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
