import ContentHashing
import Foundation

/// A list of phrases a text rule looks for (sensitive words, person names, boilerplate), read from a plain file the
/// user can edit.
///
/// File format (UTF-8): one entry per line; anything after the first TAB is an annotation and ignored (the miners
/// write counts there); lines starting with `#` are comments; surrounding spaces are trimmed; blank lines are skipped.
/// Entries may contain inner spaces ("click to enlarge").
public struct Lexicon: Sendable, Equatable {
    /// Where the entries came from: a file path, or "built-in:<name>".
    public var source: String
    public var entries: [String]

    public init(source: String, entries: [String]) {
        self.source = source
        self.entries = entries
    }

    public static func load(path: String) throws -> Lexicon {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the lexicon file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.invalidRecord(file: path, line: 1, reason: "the lexicon file is not valid UTF-8")
        }
        return Lexicon(source: path, entries: parse(text))
    }

    public static func parse(_ text: String) -> [String] {
        var entries: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasPrefix("#") { continue }
            if let tab = line.firstIndex(of: "\t") { line = line[..<tab] }
            let entry = line.trimmingCharacters(in: .whitespaces)
            if !entry.isEmpty { entries.append(entry) }
        }
        return entries
    }

    /// Identifies the entries (not the source), for the run fingerprint.
    public var fingerprint: ContentHash {
        var hasher = StreamingContentHasher(seed: 0x1e71c0)
        for entry in entries {
            hasher.combine(entry)
            hasher.combine(UInt64(0xFFFF_FFFF))
        }
        return hasher.finalize()
    }

    /// Writes the entries one per line under a `#` header, with optional TAB annotations.
    public static func write(entries: [(String, String?)], header: [String], to path: String) throws {
        var text = header.map { "# " + $0 }.joined(separator: "\n")
        if !text.isEmpty { text += "\n" }
        for (entry, note) in entries {
            text += entry
            if let note { text += "\t" + note }
            text += "\n"
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError.io(file: path, message: "cannot write the lexicon: \(error)")
        }
    }

    /// Boilerplate that web captions commonly carry (page furniture, not content): used when no list is given.
    /// Mine a corpus with `brivl clean mine-boilerplate` for its own.
    public static let defaultBoilerplate = Lexicon(
        source: "built-in:boilerplate",
        entries: [
            "查看原网页", "展开全文", "收起全文", "查看全文", "阅读全文", "阅读原文", "点击查看大图", "点击查看原图",
            "点击图片查看大图", "点击图片查看原图", "点击图片进入下一页", "点击进入下一页", "图片来源于网络", "图片来源网络",
            "图片来自网络", "图片来源于互联网", "转载请注明出处", "版权归原作者所有", "如有侵权请联系删除", "本文来源于网络",
            "长按识别二维码", "扫码关注我们", "返回搜狐，查看更多", "点击蓝字关注我们",
            "click to enlarge", "click to view larger image", "view original page", "read more",
        ])
}
