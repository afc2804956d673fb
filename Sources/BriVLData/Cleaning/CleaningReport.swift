import Foundation

/// The outcome of a cleaning run, written as `report.json` (stable snake_case keys, every reason present even at
/// zero) and `report.md`. It depends only on the inputs and settings, not on worker count or interruptions, so a
/// resumed run writes the same report as an uninterrupted one.
public struct CleaningReport: Codable, Sendable, Equatable {
    public struct ShardSummary: Codable, Sendable, Equatable {
        public var name: String
        public var input: Int
        public var kept: Int
        public var rejected: Int
        /// Archive problems (truncated or corrupt tar, unreadable file): the samples before them were cleaned.
        public var errors: [String]
    }

    public struct LexiconSummary: Codable, Sendable, Equatable {
        /// File path or built-in name; "off" when the rule is disabled.
        public var source: String
        public var entries: Int
        public var fingerprint: String?
    }

    public var version = 1
    /// Identifies settings, lexicons, codec, scorer and inputs.
    public var fingerprint: String
    public var configuration: CleaningConfiguration
    public var lexicons: [String: LexiconSummary]
    public var imageCodec: String
    public var relevanceScorer: String?
    public var totals: CleaningCounts
    public var shards: [ShardSummary]

    enum CodingKeys: String, CodingKey {
        case version, fingerprint, configuration, lexicons
        case imageCodec = "image_codec"
        case relevanceScorer = "relevance_scorer"
        case totals, shards
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The report as Markdown tables.
    public func markdown() -> String {
        var lines: [String] = ["# Cleaning report", ""]
        func percent(_ value: Int) -> String {
            totals.input == 0 ? "–" : String(format: "%.1f%%", 100 * Double(value) / Double(totals.input))
        }
        lines += [
            "| pairs | count | share |", "|---|---:|---:|",
            "| input | \(totals.input) | \(percent(totals.input)) |",
            "| kept | \(totals.kept) | \(percent(totals.kept)) |",
            "| rejected | \(totals.rejected) | \(percent(totals.rejected)) |", "",
            "## Rejected, by primary reason", "",
            "| reason | pairs | share of input | pairs failing the rule (a pair may fail several) |", "|---|---:|---:|---:|",
        ]
        for reason in CleaningRejectReason.allCases {
            let dropped = totals.droppedBy[reason] ?? 0
            let failed = totals.failedRules[reason] ?? 0
            lines.append("| \(reason.rawValue) | \(dropped) | \(percent(dropped)) | \(failed) |")
        }
        lines += [
            "", "## Changes to kept pairs", "", "| rule | pairs | occurrences |", "|---|---:|---:|",
            "| sensitive words masked | \(totals.maskedSensitive) | \(totals.maskedCharacters) characters |",
            "| person names replaced | \(totals.namesReplaced) | \(totals.nameOccurrences) |",
            "| boilerplate removed | \(totals.boilerplateRemoved) | \(totals.boilerplateOccurrences) |",
            "| failing or repeated captions removed (others kept) | – | \(totals.captionsRemoved) |",
            "| images re-encoded as JPEG | \(totals.imagesReencoded) | |",
            "| images kept as they were | \(totals.imagesKeptAsIs) | |", "",
            "Images whose bytes are another format than their extension: \(totals.imageExtensionMismatches). "
                + "Archive members that are not key.extension files (skipped): \(totals.skippedMembers).", "",
            "## Shards", "", "| shard | input | kept | rejected | archive errors |", "|---|---:|---:|---:|---|",
        ]
        for shard in shards {
            let errors = shard.errors.isEmpty ? "" : shard.errors.joined(separator: "; ").replacingOccurrences(
                of: "|", with: "\\|")
            lines.append("| \(shard.name) | \(shard.input) | \(shard.kept) | \(shard.rejected) | \(errors) |")
        }
        lines += [
            "", "## Settings", "",
            "- image codec: \(imageCodec)",
            "- relevance scorer: \(relevanceScorer ?? "none (relevance rule off; dedup keys on image bytes)")",
        ]
        for name in lexicons.keys.sorted() {
            let lexicon = lexicons[name]!
            lines.append("- \(name) lexicon: \(lexicon.source) (\(lexicon.entries) entries)")
        }
        lines.append("- fingerprint: \(fingerprint)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A compact table for the terminal.
    public func consoleTable() -> String {
        var rows: [(String, String)] = [
            ("input", "\(totals.input)"), ("kept", "\(totals.kept)"), ("rejected", "\(totals.rejected)"),
        ]
        for reason in CleaningRejectReason.allCases {
            let count = totals.droppedBy[reason] ?? 0
            if count > 0 { rows.append(("  dropped: \(reason.rawValue)", "\(count)")) }
        }
        rows += [
            ("masked (pairs)", "\(totals.maskedSensitive)"), ("names replaced (pairs)", "\(totals.namesReplaced)"),
            ("boilerplate removed (pairs)", "\(totals.boilerplateRemoved)"),
            ("images re-encoded", "\(totals.imagesReencoded)"), ("images kept as-is", "\(totals.imagesKeptAsIs)"),
        ]
        let errors = shards.reduce(0) { $0 + $1.errors.count }
        if errors > 0 { rows.append(("shard archive errors", "\(errors)")) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n")
    }
}
