import CTorch
import Torch
import TorchNN

/// Measures what the Swift binding adds over the same ATen work done in one C++ call.
///
/// For each workload the Swift side (Tensor API, TorchNN layers, autograd through the shim) and the C++ side
/// (`ctorch_bench.h`, direct ATen calls on the very same tensors) run interleaved; the ratio is Swift time over C++
/// time, so 1.00 means the binding costs nothing and the target is ≤ 1.05.
public struct EngineBenchmark {
    public struct Configuration: Sendable {
        /// Timed rounds per workload (medians are reported).
        public var rounds: Int = 7
        /// Workloads to run; all by default.
        public var only: Set<String>? = nil

        public init(rounds: Int = 7, only: Set<String>? = nil) {
            self.rounds = rounds
            self.only = only
        }
    }

    public static let workloads = ["op_overhead", "matmul_1024", "conv3x3_b8_c64_56_fwd_bwd", "encoder_layer_b32_s64_d512_fwd_bwd"]

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the selected workloads, handing each record to `emit` as soon as it is measured.
    public func run(emit: (BenchmarkRecord) -> Void) throws {
        let selected = configuration.only ?? Set(Self.workloads)
        let common: [(String, BenchmarkValue)] = [("threads", .integer(Engine.threadCount))]
        if selected.contains("op_overhead") { emit(BenchmarkRecord(try opOverhead() + common)) }
        if selected.contains("matmul_1024") { emit(BenchmarkRecord(try matmul() + common)) }
        if selected.contains("conv3x3_b8_c64_56_fwd_bwd") { emit(BenchmarkRecord(try convolution() + common)) }
        if selected.contains("encoder_layer_b32_s64_d512_fwd_bwd") { emit(BenchmarkRecord(try encoderLayer() + common)) }
    }

    /// A one-element add: the fixed cost per engine call through Swift (handle, error check, ARC) versus C++.
    private func opOverhead() throws -> [(String, BenchmarkValue)] {
        let a = try Tensor([1.0 as Float])
        let b = try Tensor([2.0 as Float])
        let iterations = 20_000
        let (swift, cpp) = try withNoGrad {
            try Measurement.interleaved(
                rounds: configuration.rounds,
                { try Measurement.time { for _ in 0..<iterations { _ = try a + b } } },
                { try cppSeconds { ctb_add($0, a.handle, b.handle, Int64(iterations)) } })
        }
        let swiftMicros = swift / Double(iterations) * 1e6
        let cppMicros = cpp / Double(iterations) * 1e6
        return [
            ("bench", "engine"), ("name", "op_overhead"), ("swift_us_per_op", .number(swiftMicros)),
            ("cpp_us_per_op", .number(cppMicros)), ("binding_overhead_us", .number(swiftMicros - cppMicros)),
            ("ratio", .number(swift / cpp)),
        ]
    }

    private func matmul() throws -> [(String, BenchmarkValue)] {
        let generator = try Generator(seed: 1)
        let a = try Tensor.randn([1024, 1024], generator: generator)
        let b = try Tensor.randn([1024, 1024], generator: generator)
        let iterations = 4
        let (swift, cpp) = try withNoGrad {
            try Measurement.interleaved(
                rounds: configuration.rounds,
                { try Measurement.time { for _ in 0..<iterations { _ = try a.matmul(b) } } },
                { try cppSeconds { ctb_matmul($0, a.handle, b.handle, Int64(iterations)) } })
        }
        let flops = 2 * 1024.0 * 1024 * 1024 * Double(iterations)
        return [
            ("bench", "engine"), ("name", "matmul_1024"), ("swift_gflops", .number(flops / swift / 1e9)),
            ("cpp_gflops", .number(flops / cpp / 1e9)), ("ratio", .number(swift / cpp)),
        ]
    }

    private func convolution() throws -> [(String, BenchmarkValue)] {
        let generator = try Generator(seed: 2)
        let x = try Tensor.randn([8, 64, 56, 56], generator: generator)
        let convolution = try Conv2d(64, 64, kernelSize: 3, padding: 1, generator: generator)
        let (swift, cpp) = try Measurement.interleaved(
            rounds: configuration.rounds,
            {
                try Measurement.time {
                    try convolution(x).sum().backward()
                    for parameter in convolution.parameters() { try parameter.setGrad(nil) }
                }
            },
            {
                try cppSeconds {
                    ctb_conv_forward_backward($0, x.handle, convolution.weight.handle, convolution.bias!.handle, 1)
                }
            })
        return timingRecord(name: "conv3x3_b8_c64_56_fwd_bwd", swift: swift, cpp: cpp)
    }

    private func encoderLayer() throws -> [(String, BenchmarkValue)] {
        let generator = try Generator(seed: 3)
        let layer = try TransformerEncoderLayer(
            dimension: 512, heads: 8, feedForwardDimension: 2048, activation: .gelu, normFirst: true,
            generator: generator)
        let x = try Tensor.randn([32, 64, 512], generator: generator)
        let weights = [
            layer.norm1.weight!, layer.norm1.bias!, layer.selfAttention.query.weight, layer.selfAttention.query.bias!,
            layer.selfAttention.key.weight, layer.selfAttention.key.bias!, layer.selfAttention.value.weight,
            layer.selfAttention.value.bias!, layer.selfAttention.output.weight, layer.selfAttention.output.bias!,
            layer.norm2.weight!, layer.norm2.bias!, layer.linear1.weight, layer.linear1.bias!, layer.linear2.weight,
            layer.linear2.bias!,
        ]
        precondition(weights.count == layer.parameters().count, "the C++ reference must see every parameter")
        let handles: [ct_tensor?] = weights.map(\.handle)
        let (swift, cpp) = try Measurement.interleaved(
            rounds: configuration.rounds,
            {
                try Measurement.time {
                    try layer(x).sum().backward()
                    for parameter in weights { try parameter.setGrad(nil) }
                }
            },
            {
                try cppSeconds { seconds in
                    handles.withUnsafeBufferPointer { buffer in
                        ctb_encoder_layer_forward_backward(seconds, x.handle, buffer.baseAddress, 8, true, 1)
                    }
                }
            })
        return timingRecord(name: "encoder_layer_b32_s64_d512_fwd_bwd", swift: swift, cpp: cpp)
    }

    private func timingRecord(name: String, swift: Double, cpp: Double) -> [(String, BenchmarkValue)] {
        [
            ("bench", "engine"), ("name", .text(name)), ("swift_ms", .number(swift * 1e3)), ("cpp_ms", .number(cpp * 1e3)),
            ("ratio", .number(swift / cpp)),
        ]
    }

    private func cppSeconds(_ call: (UnsafeMutablePointer<Double>) -> ct_status) throws -> Double {
        var seconds = 0.0
        let status = call(&seconds)
        if status != 0 { throw TorchError.engine(String(cString: ct_last_error())) }
        return seconds
    }
}
