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

        /// Runs a small attention block forward and backward on the CPU and on `device` with the same inputs, and
        /// returns the largest absolute difference over the output and all gradients.
        static func crossDeviceDifference(device: Device) throws -> Double {
            let generator = try Generator(seed: 7)
            let inputs = try (0..<4).map { _ in try Tensor.randn([2, 16, 32], dtype: .float64, generator: generator) }
            func run(on device: Device) throws -> [Tensor] {
                let leaves = try inputs.map { try $0.to(device: device, copy: true).requiringGrad() }
                let attended = try Functional.scaledDotProductAttention(query: leaves[0], key: leaves[1], value: leaves[2])
                let output = try Functional.layerNorm(attended + leaves[3], normalizedShape: [32]).gelu()
                let loss = try (output * output).sum()
                let grads = try gradients(of: [loss], withRespectTo: leaves)
                return try [output] + grads.map { try $0!.to(device: .cpu) }
            }
            let reference = try run(on: .cpu)
            let other = try run(on: device)
            return try zip(reference, other).map { try ($0 - $1.to(device: .cpu)).abs().max().item() }.max() ?? 0
        }

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
                let difference = try Self.crossDeviceDifference(device: .cuda(0))
                print("cuda vs cpu     max |difference| \(String(format: "%.2e", difference)) (attention block, forward + gradients, float64)")
            }
            print("\nbuild configuration:")
            print(try Engine.buildConfiguration())
        }
    }
}
