/// The named model presets, smallest first; the raw values are the names the command line and files use.
public enum ModelPreset: String, CaseIterable, Codable, Sendable {
    case tiny
    case small
    case base
    case vitTiny = "vit-tiny"
    case vitB32 = "vit-b32"

    public var configuration: BriVLConfiguration {
        switch self {
        case .tiny: return .tiny
        case .small: return .small
        case .base: return .base
        case .vitTiny: return .vitTiny
        case .vitB32: return .vitB32
        }
    }

    /// The preset called `name`, or an error listing the presets.
    public init(named name: String) throws {
        guard let preset = ModelPreset(rawValue: name) else {
            throw ModelError.invalidConfiguration(
                "unknown preset \"\(name)\"; the presets are \(Self.allNames.joined(separator: ", "))")
        }
        self = preset
    }

    public static var allNames: [String] { allCases.map(\.rawValue) }
}

/// The objective recipes offered by name: CLIP's in-batch loss, BriVL's MoCo queues, and BriVL's queues with ALBEF's
/// momentum distillation.
public enum Recipe: String, CaseIterable, Codable, Sendable {
    case clip
    case moco
    case brivl

    public var objective: ObjectiveConfiguration {
        switch self {
        case .clip: return .clip
        case .moco: return .moco
        case .brivl: return .brivl
        }
    }

    public static var allNames: [String] { allCases.map(\.rawValue) }
}
