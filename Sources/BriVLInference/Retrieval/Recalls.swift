/// Recall at each cut-off k of one retrieval direction. Written to JSON as an object keyed by the cut-off
/// (`{"1": 0.42, "5": 0.8}`), the form the metrics files have always had.
public struct Recalls: Sendable, Equatable, Codable {
    /// k → recall, in [0, 1].
    public var values: [Int: Double]

    public init(_ values: [Int: Double] = [:]) {
        self.values = values
    }

    /// The recall at `k`, nil when it was not measured.
    public subscript(k: Int) -> Double? {
        get { values[k] }
        set { values[k] = newValue }
    }

    /// The cut-offs measured, ascending.
    public var cutoffs: [Int] { values.keys.sorted() }

    public var isEmpty: Bool { values.isEmpty }

    public init(from decoder: any Decoder) throws {
        let byKey = try decoder.singleValueContainer().decode([String: Double].self)
        var values: [Int: Double] = [:]
        for (key, value) in byKey {
            guard let k = Int(key), k > 0 else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "recall cut-off '\(key)' is not a positive integer"))
            }
            values[k] = value
        }
        self.values = values
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: values.map { (String($0.key), $0.value) }))
    }
}
