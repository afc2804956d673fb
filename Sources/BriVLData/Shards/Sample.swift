import Foundation

/// One training example as WebDataset stores it: files sharing a key (`000123.jpg`, `000123.json`), keyed by
/// extension (`jpg`, `json`, `txt`, …).
public struct Sample: Sendable, Equatable {
    public var key: String
    public var files: [String: Data]

    public init(key: String, files: [String: Data] = [:]) {
        self.key = key
        self.files = files
    }

    /// Splits an archive member name into WebDataset's key (the path up to the first dot of the file name) and
    /// extension (everything after it, e.g. `seg.png`).
    static func split(name: String) -> (key: String, extension: String)? {
        let slash = name.lastIndex(of: "/")
        let fileStart = slash.map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[fileStart...].firstIndex(of: "."), dot > fileStart else { return nil }
        let ext = String(name[name.index(after: dot)...])
        guard !ext.isEmpty else { return nil }
        return (String(name[..<dot]), ext)
    }

    /// The image file of the sample, by the usual extensions.
    public var image: (extension: String, data: Data)? {
        for ext in Sample.imageExtensions { if let data = files[ext] { return (ext, data) } }
        return nil
    }

    public static let imageExtensions = ["jpg", "jpeg", "png", "webp"]
}

/// The caption record stored as `key.json`: one or more texts and where the pair came from.
public struct PairRecord: Codable, Sendable, Equatable {
    /// Captions of the image (one or more).
    public var texts: [String]
    /// Where the pair came from (file name, URL, dataset id).
    public var source: String?
    public var width: Int?
    public var height: Int?
    /// Free-form metadata carried through cleaning (scores, rule notes, ids).
    public var metadata: [String: String]?
    /// The captions as they were before cleaning changed them (set by `brivl clean` on the pairs it keeps).
    public var originalTexts: [String]?
    /// Hard negatives: for a caption (the key, word for word one of `texts`), captions of other pictures that
    /// differ from it in one detail — another class, colour or place. `brivl train --hard-negatives` scores the
    /// image against one of them as an extra negative (NegCLIP's foils).
    public var hardNegatives: [String: [String]]?

    enum CodingKeys: String, CodingKey {
        case texts, source, width, height, metadata
        case originalTexts = "original_texts"
        case hardNegatives = "hard_negatives"
    }

    public init(texts: [String], source: String? = nil, width: Int? = nil, height: Int? = nil,
                metadata: [String: String]? = nil, originalTexts: [String]? = nil,
                hardNegatives: [String: [String]]? = nil) {
        self.texts = texts
        self.source = source
        self.width = width
        self.height = height
        self.metadata = metadata
        self.originalTexts = originalTexts
        self.hardNegatives = hardNegatives
    }

    /// The usable hard negatives of `caption`: non-blank, and never the caption itself or another caption of
    /// this record (a foil that is true of the picture is no negative).
    public func hardNegatives(of caption: String) -> [String] {
        guard let foils = hardNegatives?[caption], !foils.isEmpty else { return [] }
        let own = Set(texts)
        var seen = Set<String>()
        return foils.filter { !$0.allSatisfy(\.isWhitespace) && !own.contains($0) && seen.insert($0).inserted }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads `key.json`, or falls back to `key.txt` (one caption per line) as WebDataset corpora often have
    /// (``CaptionReader``).
    public static func decode(from sample: Sample) throws -> PairRecord {
        switch CaptionReader.record(of: sample) {
        case .success(let record): return record
        case .failure(let problem): throw DataError.invalidSample(key: sample.key, reason: problem.description)
        }
    }
}
