import Torch

/// Elementwise non-linearities, by name in configurations.
public enum Activation: String, Codable, Sendable {
    case relu, gelu, geluTanh = "gelu_tanh", silu, tanh, sigmoid
    /// x · σ(1.702 x): the GELU approximation OpenAI CLIP (and so Chinese-CLIP's ViTs) trained with.
    case quickGELU = "quick_gelu"

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        switch self {
        case .relu: return try input.relu()
        case .gelu: return try input.gelu()
        case .geluTanh: return try input.gelu(approximateWithTanh: true)
        case .silu: return try input.silu()
        case .tanh: return try input.tanh()
        case .sigmoid: return try input.sigmoid()
        case .quickGELU: return try input * (input * 1.702).sigmoid()
        }
    }
}

/// GELU as a layer.
public final class GELU: Module, UnaryLayer {
    public let approximateWithTanh: Bool

    public init(approximateWithTanh: Bool = false) {
        self.approximateWithTanh = approximateWithTanh
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.gelu(approximateWithTanh: approximateWithTanh)
    }
}

/// Randomly zeroes elements with probability `p` in training mode; the identity in evaluation mode.
public final class Dropout: Module, UnaryLayer {
    public let p: Double

    public init(_ p: Double) throws {
        guard (0..<1).contains(p) else { throw ModuleError.invalidConfiguration("dropout probability \(p) is not in [0, 1)") }
        self.p = p
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try Functional.dropout(input, p: p, training: training, generator: dropoutGenerator)
    }
}

/// Linear layers with an activation between them (and optional dropout), e.g. BriVL's C→2048→2048 projection.
public final class MLP: Module, UnaryLayer {
    public let layers: [Linear]
    public let activation: Activation
    public let dropout: Dropout?

    /// - Parameter sizes: the input size followed by each layer's output size (at least two entries).
    public init(sizes: [Int], activation: Activation = .gelu, dropout: Double = 0, bias: Bool = true,
                generator: Generator? = nil) throws {
        guard sizes.count >= 2 else { throw ModuleError.invalidConfiguration("an MLP needs at least two sizes") }
        layers = try zip(sizes, sizes.dropFirst()).map { try Linear($0, $1, bias: bias, generator: generator) }
        self.activation = activation
        self.dropout = dropout > 0 ? try Dropout(dropout) : nil
    }

    /// The activation (and dropout) follow every layer but the last.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = input
        for (index, layer) in layers.enumerated() {
            x = try layer(x)
            if index < layers.count - 1 {
                x = try activation(x)
                if let dropout { x = try dropout(x) }
            }
        }
        return x
    }
}
