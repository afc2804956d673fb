import ContentHashing
import Foundation

/// A pair that failed one or more rules: written whole to the rejects shard.
struct RejectedPair {
    var key: String
    /// The sample as read (or, for a duplicate, in its cleaned form).
    var files: [String: Data]
    var reasons: [CleaningRejectReason]
    var details: [String]
    /// The caption record as read, when the caption could be decoded.
    var record: PairRecord?
    /// Extra metadata (e.g. `duplicate_of`).
    var extraMetadata: [String: String] = [:]

    var primaryReason: CleaningRejectReason { reasons.min()! }

    /// The reject sample: the original files unchanged, except `json`, which becomes a caption record carrying
    /// `reject_reasons` (comma-separated, primary first) and `reject_detail`. An original `json` that could not be
    /// decoded is kept byte for byte as `original.json`.
    func sample() -> Sample {
        var output = files
        var metadata = record?.metadata ?? [:]
        metadata["reject_reasons"] = reasons.sorted().map(\.rawValue).joined(separator: ",")
        metadata["reject_detail"] = details.joined(separator: "; ")
        for (name, value) in extraMetadata { metadata[name] = value }
        var rejectRecord = record ?? PairRecord(texts: [])
        rejectRecord.metadata = metadata
        if record == nil, let original = files["json"] { output["original.json"] = original }
        output["json"] = PairCleaner.encode(rejectRecord, mergingInto: record == nil ? nil : files["json"])
        return Sample(key: key, files: output)
    }
}

/// What a kept pair changed, applied to the counts only when the pair is finally kept.
struct PairModifications: Equatable {
    var maskedCharacters = 0
    var maskedOccurrences = 0
    var nameOccurrences = 0
    var boilerplateOccurrences = 0
    var captionsRemoved = 0
    var reencoded = false

    func apply(to counts: inout CleaningCounts) {
        counts.kept += 1
        if maskedCharacters > 0 { counts.maskedSensitive += 1 }
        if nameOccurrences > 0 { counts.namesReplaced += 1 }
        if boilerplateOccurrences > 0 { counts.boilerplateRemoved += 1 }
        counts.maskedCharacters += maskedCharacters
        counts.nameOccurrences += nameOccurrences
        counts.boilerplateOccurrences += boilerplateOccurrences
        counts.captionsRemoved += captionsRemoved
        if reencoded { counts.imagesReencoded += 1 } else { counts.imagesKeptAsIs += 1 }
    }
}

/// A pair that passed every rule so far (relevance and dedup still to come).
struct AcceptedPair {
    var key: String
    var original: Sample
    var originalRecord: PairRecord
    /// The kept sample's files but `json`: the (re-encoded) image and other files carried over.
    var files: [String: Data]
    /// The cleaned caption record, written as `json` by ``sample()``.
    var record: PairRecord
    var cleanedTexts: [String]
    var textHashes: [ContentHash]
    var imageHash: ContentHash
    var imageData: Data
    var modifications: PairModifications
    var score: Float? = nil

    /// The dedup key: the normalised texts with the rounded score, or with the image hash when there is no score.
    func dedupKey(scoreDecimals: Int) -> ContentHash {
        var hasher = StreamingContentHasher(seed: 0xdedf)
        hasher.combine(UInt64(textHashes.count))
        for hash in textHashes {
            hasher.combine(hash.high)
            hasher.combine(hash.low)
        }
        if let score {
            var scale = 1.0
            for _ in 0..<scoreDecimals { scale *= 10 }
            hasher.combine(UInt64(0x5c0e))
            hasher.combine(UInt64(bitPattern: Int64((Double(score) * scale).rounded())))
        } else {
            hasher.combine(UInt64(0x1a6e))
            hasher.combine(imageHash.high)
            hasher.combine(imageHash.low)
        }
        return hasher.finalize()
    }

    /// The kept sample; a relevance score, when there is one, is recorded as `relevance_cosine`.
    func sample() -> Sample {
        var output = files
        var finalRecord = record
        if let score {
            finalRecord.metadata = (finalRecord.metadata ?? [:]).merging(
                ["relevance_cosine": String(format: "%.4f", score)], uniquingKeysWith: { $1 })
        }
        output["json"] = PairCleaner.encode(finalRecord, mergingInto: original.files["json"])
        return Sample(key: key, files: output)
    }
}

/// Applies the per-pair rules (everything but relevance and dedup, which need batches and global state).
/// One per worker thread.
final class PairCleaner {
    let configuration: CleaningConfiguration
    let codec: any CleaningImageCodec
    let text: TextCleaner

    enum Outcome {
        case rejected(RejectedPair)
        case accepted(AcceptedPair)
    }

    init(configuration: CleaningConfiguration, rules: TextRules, codec: any CleaningImageCodec) {
        self.configuration = configuration
        self.codec = codec
        text = TextCleaner(rules: rules)
    }

    /// Decides one sample. `counts` receives the per-sample tallies that do not wait for the final decision
    /// (extension mismatches).
    func process(_ sample: Sample, outputKey: String, counts: inout CleaningCounts) -> Outcome {
        var reasons: [CleaningRejectReason] = []
        var details: [String] = []
        func fail(_ reason: CleaningRejectReason, _ detail: String) {
            if !reasons.contains(reason) { reasons.append(reason) }
            details.append(detail)
        }

        // Caption.
        var record: PairRecord? = nil
        switch CaptionReader.record(of: sample) {
        case .success(let read): record = read
        case .failure(.missing): fail(.missingCaption, "no .json or .txt caption")
        case .failure(.invalidUTF8): fail(.invalidUTF8, "the caption file is not valid UTF-8")
        case .failure(let problem): fail(.invalidCaption, problem.description)
        }

        // Image header rules.
        var probe: ImageProbe? = nil
        var imageData = Data()
        if let image = sample.image {
            imageData = image.data
            do {
                let found = try codec.probe(image.data)
                probe = found
                if CleaningImageFormat(fileExtension: image.extension) != found.format {
                    counts.imageExtensionMismatches += 1
                }
                let longer = max(found.width, found.height), shorter = min(found.width, found.height)
                if let limit = configuration.image.maximumAspectRatio, Double(longer) > limit * Double(shorter) {
                    fail(
                        .aspectRatio,
                        "aspect ratio \(Self.format(Double(longer) / Double(shorter))) > \(Self.format(limit)) (\(found.width)×\(found.height))"
                    )
                }
                if let limit = configuration.image.minimumShorterSide, shorter < limit {
                    fail(.imageTooSmall, "shorter side \(shorter) px < \(limit) px (\(found.width)×\(found.height))")
                }
            } catch {
                fail(.undecodableImage, "image .\(image.extension): \(Self.shortDescription(error))")
            }
        } else {
            let names = sample.files.keys.sorted().joined(separator: ", ")
            fail(.missingImage, "no .jpg/.jpeg/.png/.webp file (has: \(names))")
        }

        // Text rules, caption by caption.
        var cleanedTexts: [String] = []
        var textHashes: [ContentHash] = []
        var modifications = PairModifications()
        if let record {
            var failures: [TextFailure] = []
            // A caption that cleans to the text of an earlier one of the same pair says nothing new: it is left out
            // and counted with the removed captions (PairRecord.captions is the same rule for the loader).
            var seen = Set<String>()
            var repeats = 0
            for caption in record.texts {
                let cleaned = text.clean(caption)
                if let failure = cleaned.failure {
                    failures.append(failure)
                    continue
                }
                guard seen.insert(cleaned.text).inserted else {
                    repeats += 1
                    continue
                }
                cleanedTexts.append(cleaned.text)
                textHashes.append(cleaned.normalizedHash)
                modifications.maskedCharacters += cleaned.maskedCharacters
                modifications.maskedOccurrences += cleaned.maskedOccurrences
                modifications.nameOccurrences += cleaned.namesReplaced
                modifications.boilerplateOccurrences += cleaned.boilerplateRemoved
            }
            if cleanedTexts.isEmpty {
                if failures.isEmpty || failures.allSatisfy({ $0 == .empty }) {
                    fail(.emptyCaption, "no caption with text")
                } else {
                    if failures.contains(.language) {
                        fail(.language, Self.languageDetail(configuration.text))
                    }
                    if failures.contains(.emptyAfterCleaning) {
                        fail(.emptyAfterCleaning, "nothing left after boilerplate, sensitive-word and name rules")
                    }
                }
            } else {
                modifications.captionsRemoved = failures.count + repeats
            }
        }

        // Whole-image check and re-encoding, only for pairs still in.
        var outputExtension = "jpg"
        if reasons.isEmpty, let probe {
            do {
                if let jpeg = try codec.verify(imageData, reencodingAsJPEG: configuration.image.jpegQuality) {
                    imageData = jpeg
                    modifications.reencoded = true
                } else {
                    outputExtension = Self.fileExtension(probe.format)
                }
            } catch {
                fail(.undecodableImage, "image: \(Self.shortDescription(error))")
            }
        }

        guard reasons.isEmpty, let record, let probe else {
            return .rejected(
                RejectedPair(key: outputKey, files: sample.files, reasons: reasons, details: details, record: record))
        }

        var cleanedRecord = record
        cleanedRecord.texts = cleanedTexts
        cleanedRecord.width = probe.width
        cleanedRecord.height = probe.height
        var metadata = record.metadata ?? [:]
        // Cleaning cleaned pairs again keeps the first originals; earlier versions kept them as a JSON string.
        let earlierOriginals = metadata.removeValue(forKey: "original_texts").flatMap {
            try? JSONDecoder().decode([String].self, from: Data($0.utf8))
        }
        cleanedRecord.originalTexts = record.originalTexts ?? earlierOriginals ?? record.texts
        var applied: [String] = []
        if modifications.boilerplateOccurrences > 0 { applied.append("boilerplate") }
        if modifications.maskedCharacters > 0 { applied.append("sensitive") }
        if modifications.nameOccurrences > 0 { applied.append("names") }
        if modifications.captionsRemoved > 0 { applied.append("captions_removed") }
        if !applied.isEmpty { metadata["clean_rules"] = applied.joined(separator: ",") }
        if outputKey != sample.key { metadata["original_key"] = sample.key }
        cleanedRecord.metadata = metadata

        var files = sample.files
        if let image = sample.image { files[image.extension] = nil }
        files["txt"] = nil
        files["json"] = nil
        files[outputExtension] = imageData
        return .accepted(
            AcceptedPair(
                key: outputKey, original: sample, originalRecord: record, files: files, record: cleanedRecord, cleanedTexts: cleanedTexts,
                textHashes: textHashes, imageHash: ContentHash.of(sample.image!.data), imageData: imageData,
                modifications: modifications))
    }

    // MARK: Helpers

    static func fileExtension(_ format: CleaningImageFormat) -> String {
        switch format {
        case .jpeg: return "jpg"
        case .png: return "png"
        case .webp: return "webp"
        }
    }

    static func languageDetail(_ configuration: TextRulesConfiguration) -> String {
        switch configuration.language {
        case .zh: return "fewer than \(configuration.minimumChineseCharacters) Chinese character(s)"
        case .en: return "fewer than \(configuration.minimumLatinLetters) Latin letter(s)"
        case .any: return "language"
        }
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func shortDescription(_ error: Error) -> String {
        let text: String
        if let problem = error as? ImageProblem {
            text = problem.description
        } else if let decoding = error as? DecodingError {
            switch decoding {
            case .keyNotFound(let key, _): text = "missing key '\(key.stringValue)'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                text = path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            @unknown default: text = "\(decoding)"
            }
        } else {
            text = "\(error)"
        }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    private static let recordKeys: Set<String> = ["texts", "source", "width", "height", "metadata", "original_texts"]

    /// Encodes `record`; when the original JSON object has keys a caption record does not know (url, ids, scores
    /// of other tools), they are kept.
    static func encode(_ record: PairRecord, mergingInto original: Data?) -> Data {
        let encoded = (try? record.encoded()) ?? Data("{}".utf8)
        guard let original,
            let object = try? JSONSerialization.jsonObject(with: original) as? [String: Any],
            object.keys.contains(where: { !recordKeys.contains($0) }),
            let ours = try? JSONSerialization.jsonObject(with: encoded) as? [String: Any]
        else { return encoded }
        var merged = object
        for key in recordKeys { merged[key] = ours[key] }
        return (try? JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? encoded
    }
}
