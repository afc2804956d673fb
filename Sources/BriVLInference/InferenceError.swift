/// Errors of using a model once it exists: reading checkpoints and weight sources, embedding, scoring.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// A checkpoint folder or file that is missing, damaged or of another layout.
    case checkpoint(String)
    /// A weight source whose configuration, weights or vocabulary do not make a model.
    case source(String)
    /// Inputs the model cannot take (no texts, mismatched shapes, a bad argument).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .checkpoint(let message): return "checkpoint: \(message)"
        case .source(let message): return "model: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        }
    }
}
