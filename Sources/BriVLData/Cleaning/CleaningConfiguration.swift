import Foundation

/// Settings of the cleaning rules (not of how a run is executed): everything that changes which pairs survive and how
/// they look. A resumed run must use the same configuration (it is part of the run fingerprint).
public struct CleaningConfiguration: Codable, Sendable, Equatable {
    public struct ImageRules: Codable, Sendable, Equatable {
        /// Drop when the longer side is more than this many times the shorter side; nil turns the rule off.
        public var maximumAspectRatio: Double?
        /// Drop when the shorter side is below this many pixels; nil turns the rule off.
        public var minimumShorterSide: Int?
        /// Re-encode kept images as JPEG at this quality (1…100); nil keeps the original bytes.
        public var jpegQuality: Int?

        public init(maximumAspectRatio: Double? = 2, minimumShorterSide: Int? = 256, jpegQuality: Int? = 90) {
            self.maximumAspectRatio = maximumAspectRatio
            self.minimumShorterSide = minimumShorterSide
            self.jpegQuality = jpegQuality
        }

        enum CodingKeys: String, CodingKey {
            case maximumAspectRatio = "maximum_aspect_ratio"
            case minimumShorterSide = "minimum_shorter_side"
            case jpegQuality = "jpeg_quality"
        }
    }

    public struct Relevance: Codable, Sendable, Equatable {
        /// With a scorer, drop pairs whose cosine is below this.
        public var minimumCosine: Float

        public init(minimumCosine: Float = 0.3) {
            self.minimumCosine = minimumCosine
        }

        enum CodingKeys: String, CodingKey {
            case minimumCosine = "minimum_cosine"
        }
    }

    /// Dedup on (normalised text, relevance score). Two pairs are duplicates when their normalised cleaned texts are
    /// equal AND their relevance scores, rounded to `scoreDecimals` places, are equal; the same text with another
    /// image (hence another score) is not a duplicate. Without a scorer the score's place is taken by a hash of the
    /// image bytes, so identical text + identical image bytes is a duplicate. The first pair in input order (shard
    /// order, then position) is kept — in parallel and resumed runs alike.
    public struct Dedup: Codable, Sendable, Equatable {
        public var enabled: Bool
        public var scoreDecimals: Int

        public init(enabled: Bool = true, scoreDecimals: Int = 3) {
            self.enabled = enabled
            self.scoreDecimals = scoreDecimals
        }

        enum CodingKeys: String, CodingKey {
            case enabled
            case scoreDecimals = "score_decimals"
        }
    }

    public var image: ImageRules
    public var text: TextRulesConfiguration
    public var relevance: Relevance
    public var dedup: Dedup

    public init(
        image: ImageRules = .init(), text: TextRulesConfiguration = .init(), relevance: Relevance = .init(),
        dedup: Dedup = .init()
    ) {
        self.image = image
        self.text = text
        self.relevance = relevance
        self.dedup = dedup
    }

    public func validate() throws {
        if let ratio = image.maximumAspectRatio, !(ratio >= 1) {
            throw DataError.invalidConfiguration("the maximum aspect ratio must be at least 1, got \(ratio)")
        }
        if let side = image.minimumShorterSide, side < 0 {
            throw DataError.invalidConfiguration("the minimum shorter side cannot be negative, got \(side)")
        }
        if let quality = image.jpegQuality, !(1...100).contains(quality) {
            throw DataError.invalidConfiguration("JPEG quality must be in 1...100, got \(quality)")
        }
        if !(-1...1).contains(relevance.minimumCosine) {
            throw DataError.invalidConfiguration("the relevance threshold is a cosine in [-1, 1]")
        }
        if !(0...6).contains(dedup.scoreDecimals) {
            throw DataError.invalidConfiguration("dedup score decimals must be in 0...6")
        }
    }
}

/// Why a pair was rejected. The raw values are the report's and the reject metadata's stable keys; the declaration
/// order is the precedence that picks a pair's primary reason when several apply.
public enum CleaningRejectReason: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
    /// The input archive broke inside this sample (truncated or corrupt tar): what was read of it is kept as a reject.
    case truncatedArchive = "truncated_archive"
    /// A key with a caption (or other files) but no .jpg/.jpeg/.png/.webp file.
    case missingImage = "missing_image"
    /// A key with an image but no .json/.txt caption.
    case missingCaption = "missing_caption"
    case invalidUTF8 = "invalid_utf8"
    /// The .json file is not a caption record.
    case invalidCaption = "invalid_caption"
    /// No caption with anything but whitespace.
    case emptyCaption = "empty_caption"
    /// Empty, truncated or corrupt image data, or not an image at all.
    case undecodableImage = "undecodable_image"
    case aspectRatio = "aspect_ratio"
    case imageTooSmall = "image_too_small"
    /// Too few Chinese characters (or Latin letters) under the language policy.
    case language
    /// Nothing left once boilerplate, sensitive words and names were handled.
    case emptyAfterCleaning = "empty_after_cleaning"
    case lowRelevance = "low_relevance"
    case duplicate

    public static func < (lhs: CleaningRejectReason, rhs: CleaningRejectReason) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Counts of one shard or a whole run. Every field is a count of pairs unless its name says otherwise.
public struct CleaningCounts: Codable, Sendable, Equatable {
    public var input = 0
    public var kept = 0
    public var rejected = 0
    /// Rejected pairs by their primary reason (sums to `rejected`); JSON keys are the reasons' raw values.
    public var droppedBy: [CleaningRejectReason: Int] = [:]
    /// Every rule a rejected pair failed (a pair may count under several).
    public var failedRules: [CleaningRejectReason: Int] = [:]
    /// Kept pairs whose text a rule changed.
    public var maskedSensitive = 0
    public var namesReplaced = 0
    public var boilerplateRemoved = 0
    /// Occurrences behind those counts.
    public var maskedCharacters = 0
    public var nameOccurrences = 0
    public var boilerplateOccurrences = 0
    /// Captions removed from kept pairs that had another caption left: failing a text rule, or repeating an earlier
    /// caption of the pair once cleaned.
    public var captionsRemoved = 0
    /// Kept images re-encoded as JPEG / kept as they were (re-encoding off or unavailable).
    public var imagesReencoded = 0
    public var imagesKeptAsIs = 0
    /// Images whose bytes are another format than their file extension says (kept ones are written correctly).
    public var imageExtensionMismatches = 0
    /// Archive members that are not `key.extension` files (not pairs; skipped).
    public var skippedMembers = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case input, kept, rejected
        case droppedBy = "dropped_by_reason"
        case failedRules = "failed_rules"
        case maskedSensitive = "texts_masked_sensitive"
        case namesReplaced = "texts_names_replaced"
        case boilerplateRemoved = "texts_boilerplate_removed"
        case maskedCharacters = "masked_characters"
        case nameOccurrences = "name_occurrences"
        case boilerplateOccurrences = "boilerplate_occurrences"
        case captionsRemoved = "captions_removed"
        case imagesReencoded = "images_reencoded"
        case imagesKeptAsIs = "images_kept_as_is"
        case imageExtensionMismatches = "image_extension_mismatches"
        case skippedMembers = "skipped_members"
    }

    public mutating func add(_ other: CleaningCounts) {
        input += other.input
        kept += other.kept
        rejected += other.rejected
        for (key, value) in other.droppedBy { droppedBy[key, default: 0] += value }
        for (key, value) in other.failedRules { failedRules[key, default: 0] += value }
        maskedSensitive += other.maskedSensitive
        namesReplaced += other.namesReplaced
        boilerplateRemoved += other.boilerplateRemoved
        maskedCharacters += other.maskedCharacters
        nameOccurrences += other.nameOccurrences
        boilerplateOccurrences += other.boilerplateOccurrences
        captionsRemoved += other.captionsRemoved
        imagesReencoded += other.imagesReencoded
        imagesKeptAsIs += other.imagesKeptAsIs
        imageExtensionMismatches += other.imageExtensionMismatches
        skippedMembers += other.skippedMembers
    }

    /// Every reason key present (zeros included), so the report's keys do not depend on the data.
    public mutating func fillZeroReasons() {
        for reason in CleaningRejectReason.allCases {
            droppedBy[reason, default: 0] += 0
            failedRules[reason, default: 0] += 0
        }
    }

    /// Checks the identities every count must satisfy: input = kept + rejected, the primary reasons sum to
    /// rejected, kept images are either re-encoded or kept as they are.
    /// - Throws: ``DataError/inconsistentCounts(_:)`` naming the identity that failed.
    public func checkConsistency(context: String) throws {
        var problems: [String] = []
        if input != kept + rejected { problems.append("input \(input) ≠ kept \(kept) + rejected \(rejected)") }
        let primary = droppedBy.values.reduce(0, +)
        if primary != rejected { problems.append("reasons sum to \(primary), rejected is \(rejected)") }
        if imagesReencoded + imagesKeptAsIs != kept {
            problems.append("re-encoded \(imagesReencoded) + as-is \(imagesKeptAsIs) ≠ kept \(kept)")
        }
        for (name, value) in [("masked", maskedSensitive), ("names", namesReplaced), ("boilerplate", boilerplateRemoved)]
        where value > kept {
            problems.append("\(name) count \(value) exceeds kept \(kept)")
        }
        if !problems.isEmpty {
            throw DataError.inconsistentCounts("\(context): " + problems.joined(separator: "; "))
        }
    }
}

