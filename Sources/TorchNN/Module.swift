import Torch

/// The base of every layer and model.
///
/// A module's parameters, buffers and children are its stored properties, found by reflection: a `Tensor`
/// property is a parameter (or a buffer when declared `@Buffer`), a `Module` property is a child, and
/// arrays and optionals of either are followed. There is nothing to register and nothing to forget.
///
/// Checkpoint keys are the property names in snake_case (`layerNorm1` → `layer_norm1`), joined with dots; arrays
/// add the element index (`layers.0.weight`). ``checkpointKeys`` overrides a name where a checkpoint format says
/// otherwise (HF BERT's `LayerNorm`, for example).
open class Module {
    /// Whether the module is in training mode (dropout active, batch statistics used).
    public private(set) var training = true
    /// Where this module's dropout draws its masks; nil: the engine's global generator. Set with
    /// ``drawDropout(from:)``.
    public private(set) var dropoutGenerator: Generator?

    public init() {}

    /// Property name → checkpoint key, where the key is not the property name in snake_case.
    open class var checkpointKeys: [String: String] { [:] }

    /// One stored item found by reflection.
    public enum Item {
        case parameter(Tensor)
        case buffer(Tensor)
        case module(Module)
    }

    /// The direct items of this module, in declaration order (superclass properties first), with their keys.
    public func items() -> [(key: String, item: Item)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror {
            mirrors.insert(current, at: 0)
            mirror = current.superclassMirror
        }
        let keys = type(of: self).checkpointKeys
        var found: [(String, Item)] = []
        for current in mirrors {
            for child in current.children {
                guard var label = child.label, label != "training" else { continue }
                var value = child.value
                var isBuffer = false
                if let buffer = value as? Buffer {
                    // A property wrapper's storage is labelled with a leading underscore.
                    label = String(label.dropFirst(label.hasPrefix("_") ? 1 : 0))
                    value = buffer.wrappedValue
                    isBuffer = true
                }
                let key = keys[label] ?? Module.snakeCase(label)
                Module.collect(value, key: key, isBuffer: isBuffer, into: &found)
            }
        }
        return found
    }

    private static func collect(_ value: Any, key: String, isBuffer: Bool, into found: inout [(String, Item)]) {
        switch value {
        case let tensor as Tensor:
            found.append((key, isBuffer ? .buffer(tensor) : .parameter(tensor)))
        case let module as Module:
            found.append((key, .module(module)))
        case let modules as [Module]:
            for (index, module) in modules.enumerated() { found.append(("\(key).\(index)", .module(module))) }
        case let tensors as [Tensor]:
            for (index, tensor) in tensors.enumerated() {
                found.append(("\(key).\(index)", isBuffer ? .buffer(tensor) : .parameter(tensor)))
            }
        default:
            break
        }
    }

    /// `layerNorm1` → `layer_norm1`, `queryKV` → `query_kv`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (index, character) in characters.enumerated() {
            if character.isUppercase {
                let previousIsLower = index > 0 && (characters[index - 1].isLowercase || characters[index - 1].isNumber)
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                let previousIsUpper = index > 0 && characters[index - 1].isUppercase
                if index > 0 && (previousIsLower || (previousIsUpper && nextIsLower)) { result.append("_") }
                result.append(contentsOf: character.lowercased())
            } else {
                result.append(character)
            }
        }
        return result
    }

    // MARK: - Traversal

    /// Every module below this one (not including it), depth first, with dotted keys.
    public func namedModules() -> [(key: String, module: Module)] {
        var result: [(String, Module)] = []
        for (key, item) in items() {
            guard case .module(let child) = item else { continue }
            result.append((key, child))
            result.append(contentsOf: child.namedModules().map { ("\(key).\($0.key)", $0.module) })
        }
        return result
    }

    /// Every parameter, with dotted keys, in a stable order.
    public func namedParameters() -> [(key: String, tensor: Tensor)] {
        namedTensors(includeParameters: true, includeBuffers: false)
    }

    /// Every buffer, with dotted keys.
    public func namedBuffers() -> [(key: String, tensor: Tensor)] {
        namedTensors(includeParameters: false, includeBuffers: true)
    }

    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// The parameters an optimizer should update (those that record gradients).
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }

    /// The number of parameter elements.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    private func namedTensors(includeParameters: Bool, includeBuffers: Bool) -> [(key: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        for (key, item) in items() {
            switch item {
            case .parameter(let tensor) where includeParameters: result.append((key, tensor))
            case .buffer(let tensor) where includeBuffers: result.append((key, tensor))
            case .module(let child):
                result.append(
                    contentsOf: child.namedTensors(includeParameters: includeParameters, includeBuffers: includeBuffers)
                        .map { ("\(key).\($0.key)", $0.tensor) })
            default: break
            }
        }
        return result
    }

    // MARK: - Modes

    /// Sets training mode on this module and every module below it.
    ///
    /// Open so that a model can keep parts of itself in evaluation mode whatever it is asked (frozen batch-norm
    /// stages of a backbone): an override calls `super.train(on)`, then puts those parts back.
    open func train(_ on: Bool = true) {
        training = on
        for (_, item) in items() {
            if case .module(let child) = item { child.train(on) }
        }
    }

    /// Makes every dropout at and below this module (dropout layers, attention-weight dropout) draw its masks from
    /// `generator`, so that a training run's masks depend on its own seed and state, not on whatever else draws from
    /// the engine's global generator in the process; nil goes back to the global generator.
    public func drawDropout(from generator: Generator?) {
        for module in [self] + namedModules().map(\.module) { module.dropoutGenerator = generator }
    }

    /// Evaluation mode: dropout off, running statistics used.
    public func eval() { train(false) }

    /// Runs `body` with this module in evaluation mode, then puts back the mode every module below it had before,
    /// one by one (so parts that were kept in evaluation mode, like frozen batch-norm stages, stay so).
    public func withEvaluationMode<Result>(_ body: () throws -> Result) rethrows -> Result {
        let modules = [self] + namedModules().map(\.module)
        let modes = modules.map(\.training)
        eval()
        defer { for (module, mode) in zip(modules, modes) { module.training = mode } }
        return try body()
    }

    /// Stops (or restarts) gradient recording for every parameter below this module.
    public func freeze(_ frozen: Bool = true) throws {
        for parameter in parameters() where parameter.dtype.isFloatingPoint {
            try parameter.requiringGrad(!frozen)
        }
    }

    /// Moves or converts every parameter and buffer in place; floating-point dtype changes skip integer buffers.
    public func to(device: Device? = nil, dtype: DType? = nil) throws {
        for (_, tensor) in namedParameters() + namedBuffers() {
            let targetType = tensor.dtype.isFloatingPoint ? dtype : nil
            try withNoGrad { try tensor.replaceData(with: try tensor.detach().to(device: device, dtype: targetType)) }
        }
    }

    // MARK: - State

    /// Parameters and buffers by checkpoint key (they share storage with the module).
    public func stateDict() -> [(key: String, tensor: Tensor)] {
        namedTensors(includeParameters: true, includeBuffers: true)
    }

    /// Overwrites every parameter and buffer with the tensor of the same key.
    ///
    /// Every key of the module must be present with the same shape, and (unless `strict` is false) the state must
    /// hold no other key: a partial or mismatched checkpoint is an error naming the key, never a silent skip.
    /// Values are converted to each tensor's dtype and device.
    public func load(stateDict state: [String: Tensor], strict: Bool = true) throws {
        let own = stateDict()
        let ownKeys = Set(own.map(\.key))
        let missing = own.map(\.key).filter { state[$0] == nil }
        if !missing.isEmpty { throw ModuleError.missingKeys(missing) }
        if strict {
            let unexpected = state.keys.filter { !ownKeys.contains($0) }.sorted()
            if !unexpected.isEmpty { throw ModuleError.unexpectedKeys(unexpected) }
        }
        for (key, tensor) in own {
            let source = state[key]!
            if source.shape != tensor.shape {
                throw ModuleError.shapeMismatch(key: key, expected: tensor.shape, actual: source.shape)
            }
        }
        try withNoGrad {
            for (key, tensor) in own { try tensor.copyInPlace(from: state[key]!) }
        }
    }
}

/// Marks a tensor property of a ``Module`` as a buffer: state that is saved and loaded with the weights and moved
/// with them, but is not a parameter (no gradient, no optimizer, no weight decay), like batch norm's running
/// statistics. The mark sits on the declaration, so a renamed property cannot silently turn into a parameter.
///
///     @Buffer public var runningMean: Tensor
@propertyWrapper
public struct Buffer {
    public var wrappedValue: Tensor

    public init(wrappedValue: Tensor) {
        self.wrappedValue = wrappedValue
    }
}

/// Errors of module state handling.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case missingKeys([String])
    case unexpectedKeys([String])
    case shapeMismatch(key: String, expected: [Int], actual: [Int])
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .missingKeys(let keys): return "state dict is missing \(keys.count) key(s): \(keys.joined(separator: ", "))"
        case .unexpectedKeys(let keys):
            return "state dict has \(keys.count) unexpected key(s): \(keys.joined(separator: ", "))"
        case .shapeMismatch(let key, let expected, let actual):
            return "shape mismatch for \(key): the model expects \(expected), the checkpoint has \(actual)"
        case .invalidConfiguration(let message): return "invalid configuration: \(message)"
        }
    }
}

/// A layer with one input and one output, composable in ``Sequential``.
public protocol UnaryLayer: Module {
    func callAsFunction(_ input: Tensor) throws -> Tensor
}

/// Applies its layers in order.
public final class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try layers.reduce(input) { try $1($0) }
    }
}
