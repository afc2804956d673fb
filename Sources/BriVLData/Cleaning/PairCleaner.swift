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

    /// Decides one sample in four phases — read the caption, check the image's header, clean the captions, verify
    /// (and re-encode) the whole image — and assembles the kept pair. Every rule that fails is recorded; the image
    /// is decoded in full only for a pair still in. `counts` receives the per-sample tallies that do not wait for
    /// the final decision (extension mismatches).
    func process(_ sample: Sample, outputKey: String, counts: inout CleaningCounts) -> Outcome {
        var verdict = Verdict()
        let record = readCaption(sample, into: &verdict)
        let probe = checkImageHeader(sample, into: &verdict, counts: &counts)
        var captions = record.map { cleanCaptions($0, into: &verdict) } ?? CleanedCaptions()
        var image = (data: sample.image?.data ?? Data(), fileExtension: "jpg")
        if verdict.passed, let probe, let verified = verifyImage(image.data, probe: probe, into: &verdict) {
            image = (verified.data, verified.fileExtension)
            captions.modifications.reencoded = verified.reencoded
        }
        guard verdict.passed, let record, let probe, let original = sample.image else {
            return .rejected(
                RejectedPair(
                    key: outputKey, files: sample.files, reasons: verdict.reasons, details: verdict.details,
                    record: record))
        }

        var files = sample.files
        files[original.extension] = nil
        files["txt"] = nil
        files["json"] = nil
        files[image.fileExtension] = image.data
        return .accepted(
            AcceptedPair(
                key: outputKey, original: sample, originalRecord: record, files: files,
                record: cleanedRecord(
                    record, texts: captions.texts, probe: probe, modifications: captions.modifications,
                    renamedFrom: outputKey != sample.key ? sample.key : nil),
                cleanedTexts: captions.texts, textHashes: captions.hashes, imageHash: ContentHash.of(original.data),
                imageData: image.data, modifications: captions.modifications))
    }

    // MARK: Phases

    /// The rules a pair failed so far, each once, with every detail.
    struct Verdict {
        var reasons: [CleaningRejectReason] = []
        var details: [String] = []
        var passed: Bool { reasons.isEmpty }

        mutating func fail(_ reason: CleaningRejectReason, _ detail: String) {
            if !reasons.contains(reason) { reasons.append(reason) }
            details.append(detail)
        }
    }

    /// The captions that survived the text rules, and what the rules changed.
    struct CleanedCaptions {
        var texts: [String] = []
        var hashes: [ContentHash] = []
        var modifications = PairModifications()
    }

    private func readCaption(_ sample: Sample, into verdict: inout Verdict) -> PairRecord? {
        switch CaptionReader.record(of: sample) {
        case .success(let record): return record
        case .failure(.missing): verdict.fail(.missingCaption, "no .json or .txt caption")
        case .failure(.invalidUTF8): verdict.fail(.invalidUTF8, "the caption file is not valid UTF-8")
        case .failure(let problem): verdict.fail(.invalidCaption, problem.description)
        }
        return nil
    }

    /// The image's format and size from its header, against the aspect-ratio and size rules.
    private func checkImageHeader(_ sample: Sample, into verdict: inout Verdict, counts: inout CleaningCounts)
        -> ImageProbe?
    {
        guard let image = sample.image else {
            let names = sample.files.keys.sorted().joined(separator: ", ")
            verdict.fail(.missingImage, "no .jpg/.jpeg/.png/.webp file (has: \(names))")
            return nil
        }
        let probe: ImageProbe
        do {
            probe = try codec.probe(image.data)
        } catch {
            verdict.fail(.undecodableImage, "image .\(image.extension): \(Self.shortDescription(error))")
            return nil
        }
        if CleaningImageFormat(fileExtension: image.extension) != probe.format { counts.imageExtensionMismatches += 1 }
        let size = "\(probe.width)×\(probe.height)"
        let longer = max(probe.width, probe.height), shorter = min(probe.width, probe.height)
        if let limit = configuration.image.maximumAspectRatio, Double(longer) > limit * Double(shorter) {
            verdict.fail(
                .aspectRatio,
                "aspect ratio \(Self.format(Double(longer) / Double(shorter))) > \(Self.format(limit)) (\(size))")
        }
        if let limit = configuration.image.minimumShorterSide, shorter < limit {
            verdict.fail(.imageTooSmall, "shorter side \(shorter) px < \(limit) px (\(size))")
        }
        return probe
    }

    /// The text rules, caption by caption. A caption that cleans to the text of an earlier one of the same pair
    /// says nothing new: it is left out and counted with the removed captions (PairRecord.captions is the same rule
    /// for the loader).
    private func cleanCaptions(_ record: PairRecord, into verdict: inout Verdict) -> CleanedCaptions {
        var result = CleanedCaptions()
        var failures: [TextFailure] = []
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
            result.texts.append(cleaned.text)
            result.hashes.append(cleaned.normalizedHash)
            result.modifications.maskedCharacters += cleaned.maskedCharacters
            result.modifications.maskedOccurrences += cleaned.maskedOccurrences
            result.modifications.nameOccurrences += cleaned.namesReplaced
            result.modifications.boilerplateOccurrences += cleaned.boilerplateRemoved
        }
        guard result.texts.isEmpty else {
            result.modifications.captionsRemoved = failures.count + repeats
            return result
        }
        if failures.isEmpty || failures.allSatisfy({ $0 == .empty }) {
            verdict.fail(.emptyCaption, "no caption with text")
        } else {
            if failures.contains(.language) { verdict.fail(.language, Self.languageDetail(configuration.text)) }
            if failures.contains(.emptyAfterCleaning) {
                verdict.fail(.emptyAfterCleaning, "nothing left after boilerplate, sensitive-word and name rules")
            }
        }
        return result
    }

    /// The whole image decoded, and re-encoded as JPEG when the configuration asks for it.
    private func verifyImage(_ data: Data, probe: ImageProbe, into verdict: inout Verdict)
        -> (data: Data, fileExtension: String, reencoded: Bool)?
    {
        do {
            if let jpeg = try codec.verify(data, reencodingAsJPEG: configuration.image.jpegQuality) {
                return (jpeg, "jpg", true)
            }
            return (data, Self.fileExtension(probe.format), false)
        } catch {
            verdict.fail(.undecodableImage, "image: \(Self.shortDescription(error))")
            return nil
        }
    }

    /// The kept pair's caption record: the cleaned texts, the image size, the original captions and which rules
    /// changed it.
    private func cleanedRecord(
        _ record: PairRecord, texts: [String], probe: ImageProbe, modifications: PairModifications,
        renamedFrom originalKey: String?
    ) -> PairRecord {
        var cleaned = record
        cleaned.texts = texts
        // A caption the rules changed or dropped loses its hard negatives: they were written for the old text.
        let kept = Set(texts)
        cleaned.hardNegatives = record.hardNegatives?.filter { kept.contains($0.key) }
        if cleaned.hardNegatives?.isEmpty == true { cleaned.hardNegatives = nil }
        cleaned.width = probe.width
        cleaned.height = probe.height
        var metadata = record.metadata ?? [:]
        // Cleaning cleaned pairs again keeps the first originals; earlier versions kept them as a JSON string.
        let earlierOriginals = metadata.removeValue(forKey: "original_texts").flatMap {
            try? JSONDecoder().decode([String].self, from: Data($0.utf8))
        }
        cleaned.originalTexts = record.originalTexts ?? earlierOriginals ?? record.texts
        var applied: [String] = []
        if modifications.boilerplateOccurrences > 0 { applied.append("boilerplate") }
        if modifications.maskedCharacters > 0 { applied.append("sensitive") }
        if modifications.nameOccurrences > 0 { applied.append("names") }
        if modifications.captionsRemoved > 0 { applied.append("captions_removed") }
        if !applied.isEmpty { metadata["clean_rules"] = applied.joined(separator: ",") }
        if let originalKey { metadata["original_key"] = originalKey }
        cleaned.metadata = metadata
        return cleaned
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

    private static let recordKeys: Set<String> = [
        "texts", "source", "width", "height", "metadata", "original_texts", "hard_negatives",
    ]

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
