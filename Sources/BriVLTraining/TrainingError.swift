/// Errors of a training run: bad configuration, unusable checkpoints, interrupted runs.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case checkpoint(String)
    case data(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): return "invalid training configuration: \(message)"
        case .checkpoint(let message): return "checkpoint: \(message)"
        case .data(let message): return "training data: \(message)"
        }
    }
}
