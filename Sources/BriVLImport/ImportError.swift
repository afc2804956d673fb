/// Why a foreign checkpoint could not become a run folder. Every case says what to look at: the keys, the shapes,
/// the architecture that was found.
public enum ImportError: Error, CustomStringConvertible, Equatable {
    /// The file is a checkpoint of another model than `--from` names.
    case wrongArchitecture(String)
    /// A variant of the named family that cannot be imported (yet).
    case unsupportedArchitecture(String)
    /// Keys the mapping needs and the file lacks.
    case missingKeys([String])
    /// Keys the file holds and the mapping does not use, with their shapes.
    case unexpectedKeys([String])
    case shapeMismatch(String)
    case invalidOption(String)
    /// The output folder or the vocabulary cannot be written or read.
    case io(String)

    public var description: String {
        switch self {
        case .wrongArchitecture(let message), .unsupportedArchitecture(let message), .shapeMismatch(let message),
            .invalidOption(let message), .io(let message):
            return message
        case .missingKeys(let keys):
            return "the checkpoint lacks \(keys.count) key(s) the model needs: \(Self.list(keys))"
        case .unexpectedKeys(let keys):
            return "the checkpoint holds \(keys.count) key(s) this import does not know: \(Self.list(keys))"
        }
    }

    private static func list(_ keys: [String]) -> String {
        keys.count <= 12 ? keys.joined(separator: ", ") : keys.prefix(12).joined(separator: ", ") + ", … (\(keys.count - 12) more)"
    }
}
