/// Errors of the BriVL model target.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case io(file: String, message: String)
    /// Inputs whose shapes or values do not fit the model (e.g. more tokens than positions).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): return "invalid model configuration: \(message)"
        case .io(let file, let message): return "\(file): \(message)"
        case .invalidInput(let message): return "invalid model input: \(message)"
        }
    }
}
