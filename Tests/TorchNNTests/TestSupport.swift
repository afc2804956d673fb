import Foundation
import Testing
import Torch
import TorchNN

// Helpers shared by the TorchNN tests: reference data from Resources/layer_references.json, deterministic inputs,
// tensor comparisons and temporary files.

// MARK: - Reference data

/// A tensor as the reference script stores it: shape and row-major values (integers and booleans as numbers).
struct ReferenceTensor: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]

    /// The values as a float64 tensor.
    func float64() throws -> Tensor { try Tensor(data, shape: shape) }

    /// The values as an int64 tensor (indices, counters).
    func int64() throws -> Tensor { try Tensor(data.map { Int64($0) }, shape: shape) }

    /// The values as a bool tensor (masks).
    func bool() throws -> Tensor { try Tensor(data.map { $0 != 0 }, shape: shape) }
}

/// A configuration value: a number or a list of numbers.
enum ReferenceValue: Decodable, Sendable {
    case number(Double)
    case list([Double])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            self = .list(try container.decode([Double].self))
        }
    }
}

/// One case of the reference file: configuration, inputs, weights by checkpoint key, expected outputs.
struct ReferenceCase: Decodable, Sendable {
    let config: [String: ReferenceValue]
    let inputs: [String: ReferenceTensor]
    let state: [String: ReferenceTensor]
    let outputs: [String: ReferenceTensor]

    func number(_ name: String) throws -> Double {
        guard case .number(let value)? = config[name] else { throw ReferenceError.missing("config \(name)") }
        return value
    }

    func integer(_ name: String) throws -> Int { Int(try number(name)) }

    func list(_ name: String) throws -> [Int] {
        guard case .list(let values)? = config[name] else { throw ReferenceError.missing("config \(name)") }
        return values.map { Int($0) }
    }

    func input(_ name: String) throws -> ReferenceTensor {
        guard let value = inputs[name] else { throw ReferenceError.missing("input \(name)") }
        return value
    }

    func output(_ name: String) throws -> ReferenceTensor {
        guard let value = outputs[name] else { throw ReferenceError.missing("output \(name)") }
        return value
    }

    /// The weights as a state dict of float64 tensors; keys in `int64Keys` become int64 tensors.
    func stateDict(int64Keys: Set<String> = []) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (key, value) in state {
            result[key] = int64Keys.contains(key) ? try value.int64() : try value.float64()
        }
        return result
    }
}

enum ReferenceError: Error, CustomStringConvertible {
    case missing(String)
    case noResource(String)

    var description: String {
        switch self {
        case .missing(let what): return "the reference case has no \(what)"
        case .noResource(let name): return "resource \(name) is not in the test bundle"
        }
    }
}

/// The URL of a file in the test target's Resources folder (copied as a folder with `.copy("Resources")`).
func resourceURL(_ name: String) throws -> URL {
    let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
    if let url = Bundle.module.url(
        forResource: parts[0], withExtension: parts.count > 1 ? parts[1] : nil, subdirectory: "Resources")
    {
        return url
    }
    if let base = Bundle.module.resourceURL {
        let url = base.appendingPathComponent("Resources").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: url.path) { return url }
    }
    throw ReferenceError.noResource(name)
}

/// Every case of Resources/layer_references.json, written by Tests/Reference/make_layer_references.py.
func loadReferences() throws -> [String: ReferenceCase] {
    let data = try Data(contentsOf: try resourceURL("layer_references.json"))
    return try JSONDecoder().decode([String: ReferenceCase].self, from: data)
}

func referenceCase(_ name: String) throws -> ReferenceCase {
    guard let value = try loadReferences()[name] else { throw ReferenceError.missing("case \(name)") }
    return value
}

// MARK: - Comparisons

/// The largest |a − b| over all elements; infinity when the shapes differ or a value is NaN.
func maxAbsDifference(_ actual: Tensor, _ expected: [Double]) throws -> Double {
    let values = try actual.toArray(Double.self)
    guard values.count == expected.count else { return .infinity }
    var worst = 0.0
    for (a, b) in zip(values, expected) {
        let difference = Swift.abs(a - b)
        if difference.isNaN { return .infinity }
        worst = Swift.max(worst, difference)
    }
    return worst
}

/// Expects `actual` to have `expected`'s shape and values within `tolerance` (max abs difference).
func expectMatches(
    _ actual: Tensor, _ expected: ReferenceTensor, tolerance: Double, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(actual.shape == expected.shape, "\(what) shape", sourceLocation: sourceLocation)
    let difference = try maxAbsDifference(actual, expected.data)
    #expect(
        difference <= tolerance, "\(what): max |Δ| = \(difference) > \(tolerance)", sourceLocation: sourceLocation)
}

/// Expects two float arrays to agree within `tolerance` elementwise.
func expectClose(
    _ actual: [Double], _ expected: [Double], tolerance: Double, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what) count", sourceLocation: sourceLocation)
    let worst = zip(actual, expected).map { Swift.abs($0 - $1) }.max() ?? 0
    #expect(
        worst <= tolerance, "\(what): max |Δ| = \(worst); \(actual) vs \(expected)", sourceLocation: sourceLocation)
}

// MARK: - Inputs

/// Standard normal float64 values from a seeded generator.
func normalTensor(_ shape: [Int], seed: UInt64, scale: Double = 1) throws -> Tensor {
    let values = try Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed)).toArray(Double.self)
    return try Tensor(values.map { $0 * scale }, shape: shape)
}

/// Adds seeded noise to every floating-point parameter, so that LayerNorm gains and biases are not 1 and 0.
func jitterParameters(of module: Module, seed: UInt64, scale: Double = 0.3) throws {
    let generator = try Generator(seed: seed)
    try withNoGrad {
        for parameter in module.parameters() where parameter.dtype.isFloatingPoint {
            let noise = try Tensor.randn(parameter.shape, dtype: .float64, generator: generator) * scale
            try parameter.addInPlace(noise.to(dtype: parameter.dtype))
        }
    }
}

// MARK: - Files

/// A fresh temporary folder, removed when `body` returns.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("torchnn-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}
