import CTorch

/// Element types of tensors.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 0
    case float64 = 1
    case float16 = 2
    case bfloat16 = 3
    case int64 = 4
    case int32 = 5
    case int16 = 6
    case int8 = 7
    case uint8 = 8
    case bool = 9

    var code: ct_dtype { ct_dtype(rawValue: UInt32(rawValue)) }

    init(code: ct_dtype) {
        self = DType(rawValue: Int32(code.rawValue))!
    }

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .float32: return "float32"
        case .float64: return "float64"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .int64: return "int64"
        case .int32: return "int32"
        case .int16: return "int16"
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .bool: return "bool"
        }
    }
}

/// Where a tensor lives.
public struct Device: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case cpu, cuda }

    public var kind: Kind
    public var index: Int

    public static let cpu = Device(kind: .cpu, index: 0)
    public static func cuda(_ index: Int = 0) -> Device { Device(kind: .cuda, index: index) }

    /// Parses "cpu", "cuda" or "cuda:N".
    public init?(_ text: String) {
        if text == "cpu" {
            self = .cpu
        } else if text == "cuda" {
            self = .cuda(0)
        } else if text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 {
            self = .cuda(index)
        } else {
            return nil
        }
    }

    public init(kind: Kind, index: Int) {
        self.kind = kind
        self.index = index
    }

    var code: ct_device_type { kind == .cuda ? CT_CUDA : CT_CPU }

    public var description: String { kind == .cpu ? "cpu" : "cuda:\(index)" }
}

/// Swift types whose values can be copied into and out of tensors.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }

/// Numbers usable as scalar operands; integers stay integral so integer tensors keep their dtype.
public protocol TensorScalar: Sendable {
    var engineScalar: ct_scalar { get }
}

extension Double: TensorScalar {
    public var engineScalar: ct_scalar { ct_scalar(real: self, integer: 0, is_integer: false) }
}
extension Float: TensorScalar {
    public var engineScalar: ct_scalar { ct_scalar(real: Double(self), integer: 0, is_integer: false) }
}
extension Int: TensorScalar {
    public var engineScalar: ct_scalar { ct_scalar(real: 0, integer: Int64(self), is_integer: true) }
}
extension Int64: TensorScalar {
    public var engineScalar: ct_scalar { ct_scalar(real: 0, integer: self, is_integer: true) }
}
extension Int32: TensorScalar {
    public var engineScalar: ct_scalar { ct_scalar(real: 0, integer: Int64(self), is_integer: true) }
}
