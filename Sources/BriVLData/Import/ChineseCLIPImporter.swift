import Foundation

/// Imports the Chinese-CLIP dataset layout: a TSV of `image_id<TAB>base64 image` and a JSON-lines file of
/// `{"text_id": …, "text": …, "image_ids": […]}`. Each image with at least one text becomes one sample keyed by its
/// image id; its texts are all the texts naming it.
public struct ChineseCLIPImporter {
    public struct Configuration: Sendable {
        public var imagesTSV: String
        public var textsJSONL: String
        public var output: ShardWriter.Configuration
        public var rejectsFile: String?

        public init(imagesTSV: String, textsJSONL: String, output: ShardWriter.Configuration, rejectsFile: String? = nil) {
            self.imagesTSV = imagesTSV
            self.textsJSONL = textsJSONL
            self.output = output
            self.rejectsFile = rejectsFile
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> ImportReport {
        let (textsByImage, invalidTextLines) = try readTexts()
        let writer = try ShardWriter(configuration.output)
        let rejects = try RejectsLog(path: configuration.rejectsFile)
        var report = ImportReport()
        report.invalidCaptionLines = invalidTextLines.count
        for (line, reason) in invalidTextLines {
            try rejects.record(RejectedInput(source: "\(configuration.textsJSONL):\(line)", reason: .noCaption, detail: reason))
        }
        guard let data = FileManager.default.contents(atPath: configuration.imagesTSV) else {
            throw DataError.io(file: configuration.imagesTSV, message: "cannot read the image TSV")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        var seen = Set<String>()
        for (number, rawLine) in lines.enumerated() {
            defer { progress(number + 1, lines.count) }
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard !line.isEmpty else { continue }
            report.inputs += 1
            let source = "\(configuration.imagesTSV):\(number + 1)"
            func reject(_ reason: RejectReason, _ detail: String? = nil) throws {
                report.reject(reason)
                try rejects.record(RejectedInput(source: source, reason: reason, detail: detail))
            }
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else {
                try reject(.invalidBase64, "no tab between image id and data")
                continue
            }
            let imageID = String(decoding: line[line.startIndex..<tab], as: UTF8.self)
            guard seen.insert(imageID).inserted else {
                try reject(.duplicateImage, "image \(imageID) appears again")
                continue
            }
            guard let bytes = Data(base64Encoded: Data(line[(tab + 1)...]), options: .ignoreUnknownCharacters) else {
                try reject(.invalidBase64)
                continue
            }
            guard let texts = textsByImage[imageID], !texts.isEmpty else {
                try reject(.noCaption, "image \(imageID)")
                continue
            }
            guard !bytes.isEmpty else {
                try reject(.imageEmpty)
                continue
            }
            guard let format = SniffedImageFormat(bytes) else {
                try reject(.notAnImage, "image \(imageID)")
                continue
            }
            let key = Self.sampleKey(imageID, index: writer.sampleCount)
            let record = PairRecord(texts: texts, source: "image_id:\(imageID)")
            try writer.write(Sample(key: key, files: [format.rawValue: bytes, "json": try record.encoded()]))
            report.written += 1
        }
        report.shards = try writer.finish().shards
        precondition(report.inputs == report.written + report.rejectedCount, "import accounting must add up")
        return report
    }

    /// Image ids become keys when they are safe file names (no dots or slashes); others get a running number.
    static func sampleKey(_ imageID: String, index: Int) -> String {
        let safe = !imageID.isEmpty && imageID.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        return safe ? imageID : String(format: "%09d", index)
    }

    private func readTexts() throws -> ([String: [String]], [(Int, String)]) {
        guard let data = FileManager.default.contents(atPath: configuration.textsJSONL) else {
            throw DataError.io(file: configuration.textsJSONL, message: "cannot read the texts file")
        }
        var texts: [String: [String]] = [:]
        var invalid: [(Int, String)] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let text = object["text"] as? String, let ids = object["image_ids"] as? [Any]
            else {
                invalid.append((number + 1, "not a JSON object with \"text\" and \"image_ids\""))
                continue
            }
            for id in ids {
                let key = (id as? String) ?? (id as? NSNumber)?.stringValue ?? "\(id)"
                texts[key, default: []].append(text)
            }
        }
        return (texts, invalid)
    }
}
