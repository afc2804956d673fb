import Torch

/// The tensors of a foreign state dict, taken one by one as they are mapped: a key asked for and absent is a
/// missing key, and whatever is left at the end is unexpected. Both errors list the keys with their shapes.
struct SourceKeys {
    private var tensors: [String: Tensor]

    init(_ tensors: [String: Tensor]) { self.tensors = tensors }

    func contains(_ key: String) -> Bool { tensors[key] != nil }

    func contains(prefix: String) -> Bool { tensors.keys.contains { $0.hasPrefix(prefix) } }

    /// The distinct first `depth` dotted components of the keys, sorted (for saying what a file holds).
    func prefixes(depth: Int) -> [String] {
        Set(tensors.keys.map { $0.split(separator: ".").prefix(depth).joined(separator: ".") }).sorted()
    }

    /// The shape of `key`, which must have `rank` dimensions.
    func shape(_ key: String, rank: Int) throws -> [Int] {
        guard let tensor = tensors[key] else { throw ImportError.missingKeys([key]) }
        guard tensor.rank == rank else {
            throw ImportError.shapeMismatch("\(key) has shape \(tensor.shape), expected \(rank) dimensions")
        }
        return tensor.shape
    }

    /// How many numbered blocks `prefix<N>suffix` exist, counting up from 0 without gaps.
    func count(of prefix: String, suffix: String) -> Int {
        var count = 0
        while tensors[prefix + "\(count)" + suffix] != nil { count += 1 }
        return count
    }

    /// Removes and returns `key`, in float32 when it is a floating-point tensor of another precision.
    mutating func take(_ key: String) throws -> Tensor {
        guard let tensor = tensors.removeValue(forKey: key) else { throw ImportError.missingKeys([key]) }
        if tensor.dtype.isFloatingPoint && tensor.dtype != .float32 { return try tensor.to(dtype: .float32) }
        return tensor
    }

    /// The remaining keys under `prefix`, sorted.
    func remaining(withPrefix prefix: String) -> [String] {
        tensors.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Throws ``ImportError/unexpectedKeys(_:)`` listing every key not taken, with its shape.
    func requireEmpty() throws {
        guard tensors.isEmpty else {
            throw ImportError.unexpectedKeys(tensors.keys.sorted().map { "\($0) \(tensors[$0]!.shape)" })
        }
    }
}
