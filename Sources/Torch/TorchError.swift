import CTorch

/// Errors raised by the tensor library. Engine errors carry libtorch's own message, so a wrong shape reads
/// like "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)" instead of crashing the process.
public enum TorchError: Error, CustomStringConvertible, Equatable {
    /// libtorch rejected the call; the message is the engine's.
    case engine(String)
    /// An argument is invalid before it reaches the engine.
    case invalidArgument(String)
    /// A safetensors file is malformed, truncated or does not hold what was asked for.
    case safetensors(file: String, message: String)
    /// A torch.save file is malformed, truncated, of another format, or names something that is not allowed.
    case torchSave(file: String, message: String)
    /// Reading or writing a file failed.
    case io(file: String, message: String)

    public var description: String {
        switch self {
        case .engine(let message): return "engine error: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        case .safetensors(let file, let message): return "safetensors file \(file): \(message)"
        case .torchSave(let file, let message): return "torch.save file \(file): \(message)"
        case .io(let file, let message): return "\(file): \(message)"
        }
    }
}

/// Throws the engine's message when a shim call reports failure.
@inline(__always)
func check(_ status: ct_status) throws {
    if status != 0 {
        throw TorchError.engine(String(cString: ct_last_error()))
    }
}

/// Calls `body` with the values as a contiguous Int64 buffer, as the shim's shape arguments expect.
/// The pointer may be nil for an empty array; the engine never reads it then.
@inline(__always)
func withInt64Buffer<R>(_ values: [Int], _ body: (UnsafePointer<Int64>?, Int64) throws -> R) rethrows -> R {
    try values.withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: Int64.self) { try body($0.baseAddress, Int64(values.count)) }
    }
}
