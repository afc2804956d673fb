import ArgumentParser
import Foundation
import Torch

extension BriVL {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the engine's build, the BLAS in use, threads, devices and a matmul throughput check.")

        @OptionGroup var engine: EngineOptions

        @Option(help: "Seconds to spend measuring matrix-product throughput.")
        var seconds: Double = 1

        /// Below this, matrix products are running on reference BLAS rather than an optimised library.
        static let slowBLASThreshold = 20.0

        func validate() throws {
            if seconds <= 0 { throw ValidationError("--seconds must be positive") }
        }

        func run() throws {
            engine.apply()
            let version = Engine.version
            print("engine          libtorch \(version.major).\(version.minor)")
            print("threads         \(Engine.threadCount) (cores: \(ProcessInfo.processInfo.activeProcessorCount))")
            print("cuda            \(Engine.isCUDAAvailable ? "\(Engine.cudaDeviceCount) device(s)" : "not available")")
            let throughput = try Engine.measureMatmulThroughput(seconds: seconds)
            let blas = Engine.loadedBLASLibraries()
            print("blas            \(blas.isEmpty ? "none loaded (engine's built-in kernels)" : blas.joined(separator: ", "))")
            print("matmul 1024     \(String(format: "%.1f", throughput)) GFLOP/s (float32, \(Engine.threadCount) threads)")
            if throughput < Self.slowBLASThreshold {
                print(
                    "warning         matrix products are slow: on Debian/Ubuntu install libopenblas0-openmp so libtorch "
                        + "stops using reference BLAS")
            }
            if Engine.isCUDAAvailable {
                let gpu = try Engine.measureMatmulThroughput(size: 4096, seconds: seconds, device: .cuda(0))
                print("matmul cuda:0   \(String(format: "%.1f", gpu)) GFLOP/s (float32, 4096)")
            }
            print("\nbuild configuration:")
            print(try Engine.buildConfiguration())
        }
    }
}
