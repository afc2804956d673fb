import Foundation

// Printing tensors the way tensor libraries do: nested brackets, aligned columns, large tensors summarised.
extension Tensor: CustomStringConvertible {
    /// Tensors with more elements than this print only their edges.
    static let summaryThreshold = 1000
    /// Elements kept at each edge of a summarised dimension.
    static let edgeItems = 3

    public var description: String {
        do {
            return try formatted()
        } catch {
            return "tensor(<unprintable: \(error)>)"
        }
    }

    private func formatted() throws -> String {
        let shape = self.shape
        if count == 0 && shape.count > 1 { return "tensor([], shape=\(shape))" }
        let summarise = count > Tensor.summaryThreshold
        var positions: [[Int]] = []
        collectPositions(shape: shape, summarise: summarise, prefix: [], into: &positions)
        let strides = rowMajorStrides(shape)
        let picked = positions.map { position in zip(position, strides).reduce(0) { $0 + $1.0 * $1.1 } }
        let cpu = try detach().to(device: .cpu)
        let cells: [String]
        if dtype == .bool {
            let bools = try cpu.toArray(Bool.self)
            cells = picked.map { bools[$0] ? "true" : "false" }
        } else {
            let numbers = try cpu.toArray(Double.self)
            cells = Tensor.formatNumbers(picked.map { numbers[$0] }, integral: !dtype.isFloatingPoint)
        }
        let width = cells.map(\.count).max() ?? 0
        var iterator = cells.map { String(repeating: " ", count: width - $0.count) + $0 }.makeIterator()
        let body = render(shape: shape, summarise: summarise, depth: 0, cells: &iterator)

        var suffix: [String] = []
        if summarise { suffix.append("shape=\(shape)") }
        if dtype != .float32 && dtype != .int64 && dtype != .bool { suffix.append("dtype=\(dtype)") }
        if device != .cpu { suffix.append("device=\(device)") }
        if requiresGrad { suffix.append("requires_grad=true") }
        return "tensor(" + body + (suffix.isEmpty ? "" : ", " + suffix.joined(separator: ", ")) + ")"
    }

    private func indices(size: Int, summarise: Bool) -> [Int?] {
        if summarise && size > 2 * Tensor.edgeItems {
            return Array(0..<Tensor.edgeItems) + [nil] + Array((size - Tensor.edgeItems)..<size)
        }
        return Array(0..<size)
    }

    private func collectPositions(shape: [Int], summarise: Bool, prefix: [Int], into positions: inout [[Int]]) {
        if prefix.count == shape.count {
            positions.append(prefix)
            return
        }
        for index in indices(size: shape[prefix.count], summarise: summarise) {
            if let index { collectPositions(shape: shape, summarise: summarise, prefix: prefix + [index], into: &positions) }
        }
    }

    private func render(shape: [Int], summarise: Bool, depth: Int, cells: inout IndexingIterator<[String]>) -> String {
        if depth == shape.count { return cells.next() ?? "" }
        let parts = indices(size: shape[depth], summarise: summarise).map { index -> String in
            index == nil ? "..." : render(shape: shape, summarise: summarise, depth: depth + 1, cells: &cells)
        }
        if depth == shape.count - 1 { return "[" + parts.joined(separator: ", ") + "]" }
        let indent = String(repeating: " ", count: "tensor(".count + depth + 1)
        let separator = "," + String(repeating: "\n", count: shape.count - depth - 1) + indent
        return "[" + parts.joined(separator: separator) + "]"
    }

    private func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// Integers as integers; floats with four decimals, or in scientific notation when the range calls for it.
    static func formatNumbers(_ values: [Double], integral: Bool) -> [String] {
        if integral { return values.map { String(Int64($0)) } }
        let finite = values.filter { $0.isFinite && $0 != 0 }.map { Swift.abs($0) }
        let scientific = (finite.max() ?? 0) >= 1e8 || (finite.min() ?? 1) < 1e-4
        return values.map { value in
            if value.isNaN { return "nan" }
            if value.isInfinite { return value > 0 ? "inf" : "-inf" }
            return String(format: scientific ? "%.4e" : "%.4f", value)
        }
    }
}
