import Foundation

/// Timing helpers for benchmarks: medians over repeated rounds, with the two sides of a comparison interleaved
/// round by round so that machine noise hits both alike.
public enum Measurement {
    /// Runs `warmup` untimed rounds, then `rounds` timed rounds alternating `first` and `second`.
    /// Each closure returns the seconds one round took (so C++-side rounds can time themselves).
    /// - Returns: the median seconds per round of each side.
    public static func interleaved(
        rounds: Int, warmup: Int = 2, _ first: () throws -> Double, _ second: () throws -> Double
    ) throws -> (first: Double, second: Double) {
        for _ in 0..<warmup {
            _ = try first()
            _ = try second()
        }
        var a: [Double] = []
        var b: [Double] = []
        for round in 0..<rounds {
            // Alternate which side goes first, so neither always runs on a warmer cache.
            if round % 2 == 0 {
                a.append(try first())
                b.append(try second())
            } else {
                b.append(try second())
                a.append(try first())
            }
        }
        return (median(a), median(b))
    }

    /// Wall-clock seconds `body` takes.
    public static func time(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        let (whole, attoseconds) = elapsed.components
        return Double(whole) + Double(attoseconds) * 1e-18
    }

    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// One machine-readable benchmark line: a flat JSON object with stable keys.
public struct BenchmarkRecord: Sendable {
    public var fields: [(String, BenchmarkValue)]

    public init(_ fields: [(String, BenchmarkValue)]) {
        self.fields = fields
    }

    public var jsonLine: String {
        "{" + fields.map { "\"\($0.0)\":\($0.1.json)" }.joined(separator: ",") + "}"
    }
}

public enum BenchmarkValue: Sendable, ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case number(Double)
    case integer(Int)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }

    var json: String {
        switch self {
        case .text(let text): return "\"\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
        case .number(let value): return value.isFinite ? String(format: "%.6g", value) : "null"
        case .integer(let value): return String(value)
        }
    }
}
