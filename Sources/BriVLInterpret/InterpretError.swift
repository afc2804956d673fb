import Foundation

/// What can go wrong when explaining a model, phrased for the person running the command.
public enum InterpretError: Error, CustomStringConvertible, Equatable {
    /// A prompt, unit, size or setting that cannot be used.
    case invalidArgument(String)
    /// A model whose layout the method does not support.
    case unsupportedModel(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): return message
        case .unsupportedModel(let message): return "unsupported model: \(message)"
        }
    }
}
