import Foundation

/// Why a sample's captions cannot be read.
public enum CaptionProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// No `json` or `txt` caption file.
    case missing
    /// The caption file is not valid UTF-8.
    case invalidUTF8
    /// The caption JSON does not parse as a ``PairRecord``.
    case invalidRecord(String)

    public var description: String {
        switch self {
        case .missing: return "no caption (.json or .txt)"
        case .invalidUTF8: return "the caption file is not valid UTF-8"
        case .invalidRecord(let reason): return "caption JSON is not a caption record: \(reason)"
        }
    }
}

/// The one reading of a sample's captions, shared by the loader, the cleaner, the boilerplate miner and the
/// evaluation sets, so that they all see the same captions of the same sample.
///
/// Policy: `key.json` (a ``PairRecord``) wins over `key.txt` (one caption per line, blank lines dropped); either
/// must be valid UTF-8. The captions a model or a rule sees are ``PairRecord/captions``: blank ones dropped, and a
/// caption repeated word for word kept once.
public enum CaptionReader {
    public static func record(of sample: Sample) -> Result<PairRecord, CaptionProblem> {
        if let json = sample.files["json"] {
            guard String(validating: json, as: UTF8.self) != nil else { return .failure(.invalidUTF8) }
            do {
                return .success(try JSONDecoder().decode(PairRecord.self, from: json))
            } catch {
                return .failure(.invalidRecord(PairCleaner.shortDescription(error)))
            }
        }
        if let text = sample.files["txt"] {
            guard let string = String(validating: text, as: UTF8.self) else { return .failure(.invalidUTF8) }
            return .success(PairRecord(texts: string.split(whereSeparator: \.isNewline).map(String.init)))
        }
        return .failure(.missing)
    }
}

extension PairRecord {
    /// The captions to use: `texts` without blank ones and without word-for-word repeats (the first is kept).
    public var captions: [String] {
        var seen = Set<String>()
        return texts.filter { !$0.allSatisfy(\.isWhitespace) && seen.insert($0).inserted }
    }
}
