import Foundation

/// Why an evaluation cannot run. Errors about an input file name the file and, where there is one, the line.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case io(file: String, message: String)
    /// A malformed evaluation file: `line` counts from 1.
    case invalidFile(file: String, line: Int?, message: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .io(let file, let message):
            return "\(file): \(message)"
        case .invalidFile(let file, let line, let message):
            return line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
        case .invalidArgument(let message):
            return message
        }
    }
}
