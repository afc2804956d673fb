import Foundation

/// The objective's parts at one optimisation step (means over that step's jittered views).
public struct InversionStep: Codable, Sendable, Equatable {
    public var step: Int
    /// The canvas side at this step.
    public var size: Int
    public var cosine: Double
    /// The chosen unit's activation, when a unit is optimised.
    public var activation: Double?
    public var totalVariation: Double
    public var range: Double
    public var ink: Double
    /// What was maximised: weighted cosine and activation minus weighted penalties.
    public var objective: Double

    enum CodingKeys: String, CodingKey {
        case step, size, cosine, activation
        case totalVariation = "total_variation"
        case range, ink, objective
    }

    /// Values rounded to six decimals: a log holds every step, and float32 objectives carry no more.
    public func encode(to encoder: Encoder) throws {
        func rounded(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(step, forKey: .step)
        try container.encode(size, forKey: .size)
        try container.encode(rounded(cosine), forKey: .cosine)
        try container.encodeIfPresent(activation.map(rounded), forKey: .activation)
        try container.encode(rounded(totalVariation), forKey: .totalVariation)
        try container.encode(rounded(range), forKey: .range)
        try container.encode(rounded(ink), forKey: .ink)
        try container.encode(rounded(objective), forKey: .objective)
    }
}

/// Cosine and activation of one image, seen as it is (no jitter).
public struct InversionMeasurement: Codable, Sendable, Equatable {
    public var cosine: Double
    public var activation: Double?
}

/// The JSON log of one optimisation: what was asked, the measurements before and after, and every step.
public struct InversionLog: Codable, Sendable {
    public var prompt: String?
    public var unit: Int?
    public var settings: InversionSettings
    public var before: InversionMeasurement
    public var after: InversionMeasurement
    public var steps: [InversionStep]

    public init(
        prompt: String?, unit: Int?, settings: InversionSettings, before: InversionMeasurement,
        after: InversionMeasurement, steps: [InversionStep]
    ) {
        self.prompt = prompt
        self.unit = unit
        self.settings = settings
        self.before = before
        self.after = after
        self.steps = steps
    }
}
