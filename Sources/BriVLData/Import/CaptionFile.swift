import Foundation

/// A caption file pairing image paths with texts: JSON lines (`{"image": …, "text": …}` or `"texts": […]`),
/// CSV with a header naming `image` and `text` columns (RFC 4180 quoting), or TSV (`image<TAB>text`, no header).
public enum CaptionFormat: String, Sendable, CaseIterable, Codable {
    case jsonl, csv, tsv

    /// The format implied by a file name's extension.
    public init?(fileName: String) {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "jsonl", "json": self = .jsonl
        case "csv": self = .csv
        case "tsv", "txt": self = .tsv
        default: return nil
        }
    }
}

/// Captions grouped by image path, in first-seen order.
public struct CaptionTable: Sendable {
    public var order: [String] = []
    public var texts: [String: [String]] = [:]
    /// Lines that could not be parsed, with their numbers and reasons.
    public var invalidLines: [(line: Int, reason: String)] = []

    mutating func add(image: String, texts newTexts: [String]) {
        let cleaned = newTexts.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        if texts[image] == nil { order.append(image) }
        texts[image, default: []].append(contentsOf: cleaned)
    }

    public static func read(path: String, format: CaptionFormat) throws -> CaptionTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the caption file")
        }
        var table = CaptionTable()
        var lineNumber = 0
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).makeIterator()
        var csvColumns: (image: Int, text: Int)? = nil
        while let rawLine = lines.next() {
            lineNumber += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard var text = String(data: Data(line), encoding: .utf8) else {
                table.invalidLines.append((lineNumber, "not valid UTF-8"))
                continue
            }
            switch format {
            case .jsonl:
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let image = object["image"] as? String
                else {
                    table.invalidLines.append((lineNumber, "not a JSON object with an \"image\" string"))
                    continue
                }
                let texts = (object["texts"] as? [String]) ?? (object["text"] as? String).map { [$0] } ?? []
                table.add(image: image, texts: texts)
            case .tsv:
                guard let tab = text.firstIndex(of: "\t") else {
                    table.invalidLines.append((lineNumber, "no tab between image and text"))
                    continue
                }
                table.add(image: String(text[..<tab]), texts: [String(text[text.index(after: tab)...])])
            case .csv:
                // A quoted field may span lines: keep reading until the quotes balance.
                while text.filter({ $0 == "\"" }).count % 2 == 1, let more = lines.next() {
                    lineNumber += 1
                    text += "\n" + String(decoding: more, as: UTF8.self)
                }
                let fields = parseCSVRecord(text)
                guard let columns = csvColumns else {
                    let header = fields.map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
                    guard let image = header.firstIndex(of: "image"), let caption = header.firstIndex(where: { $0 == "text" || $0 == "caption" })
                    else {
                        throw DataError.invalidRecord(file: path, line: lineNumber, reason: "CSV header must name 'image' and 'text' columns")
                    }
                    csvColumns = (image, caption)
                    continue
                }
                guard fields.count > max(columns.image, columns.text) else {
                    table.invalidLines.append((lineNumber, "expected at least \(max(columns.image, columns.text) + 1) fields"))
                    continue
                }
                table.add(image: fields[columns.image], texts: [fields[columns.text]])
            }
        }
        return table
    }

    /// Splits one CSV record (RFC 4180: fields separated by commas, quoted with "…", "" for a literal quote).
    static func parseCSVRecord(_ record: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = record.makeIterator()
        var pendingQuote = false
        while let character = iterator.next() {
            if quoted {
                if pendingQuote {
                    pendingQuote = false
                    if character == "\"" { field.append("\""); continue }
                    quoted = false
                } else if character == "\"" {
                    pendingQuote = true
                    continue
                } else {
                    field.append(character)
                    continue
                }
            }
            switch character {
            case ",":
                fields.append(field)
                field = ""
            case "\"" where field.isEmpty:
                quoted = true
            default:
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }
}
