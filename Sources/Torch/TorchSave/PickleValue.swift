/// A value read out of a pickle by ``TorchSaveFile``: plain data and tensors only. Nothing in a pickle is ever
/// executed; the few callables a checkpoint may name (OrderedDict, the tensor rebuilders) are interpreted, and any
/// other is an error before the value exists.
public indirect enum PickleValue: CustomStringConvertible, @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// A dict or OrderedDict, in the pickle's order.
    case dictionary([(key: PickleValue, value: PickleValue)])
    case tensor(Tensor)
    /// A reference to a named constant, such as `torch.float32`, kept as its name.
    case global(module: String, name: String)

    /// The value under a string key, when this is a dictionary holding one.
    public subscript(key: String) -> PickleValue? {
        guard case .dictionary(let pairs) = self else { return nil }
        return pairs.first { if case .string(key) = $0.key { true } else { false } }?.value
    }

    /// The string keys of a dictionary, in order (other keys are left out); empty for anything else.
    public var stringKeys: [String] {
        guard case .dictionary(let pairs) = self else { return [] }
        return pairs.compactMap { if case .string(let key) = $0.key { key } else { nil } }
    }

    /// The tensors of a dictionary whose string keys name tensors (a state dict), or nil when this is not one:
    /// not a dictionary, no tensor in it, or a value that is neither a tensor nor nested state.
    public var tensorDictionary: [String: Tensor]? {
        guard case .dictionary(let pairs) = self else { return nil }
        var tensors: [String: Tensor] = [:]
        for (key, value) in pairs {
            guard case .string(let name) = key, case .tensor(let tensor) = value else { return nil }
            tensors[name] = tensor
        }
        return tensors.isEmpty ? nil : tensors
    }

    public var intValue: Int? { if case .int(let value) = self { value } else { nil } }
    public var stringValue: String? { if case .string(let value) = self { value } else { nil } }

    /// A short description: scalars in full, containers by their size, tensors by dtype and shape.
    public var description: String {
        switch self {
        case .none: "None"
        case .bool(let value): value ? "True" : "False"
        case .int(let value): "\(value)"
        case .float(let value): "\(value)"
        case .string(let value): "'\(value)'"
        case .bytes(let value): "<\(value.count) bytes>"
        case .tuple(let items): "(\(items.count)-tuple)"
        case .list(let items): "[\(items.count) items]"
        case .dictionary(let pairs): "{\(pairs.count) entries}"
        case .tensor(let tensor): "tensor \(tensor.dtype) \(tensor.shape)"
        case .global(let module, let name): "\(module).\(name)"
        }
    }
}
