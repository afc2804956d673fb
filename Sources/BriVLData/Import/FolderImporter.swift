import Foundation

/// Imports a folder of images described by a caption file into WebDataset shards.
///
/// Each image with at least one caption becomes one sample (`key.<format>` with the image bytes as they are,
/// `key.json` with a ``PairRecord``). The image's container format is recognised from its bytes, so a PNG named
/// `.jpg` is stored as `.png`. Images are not decoded here: cleaning decides about their content. Every caption
/// entry ends up written or rejected with a reason.
public struct FolderImporter {
    public struct Configuration: Sendable {
        public var imageDirectory: String
        public var captionFile: String
        public var captionFormat: CaptionFormat
        public var output: ShardWriter.Configuration
        /// Where rejected inputs are listed (JSON lines); nil to only count them.
        public var rejectsFile: String?

        public init(
            imageDirectory: String, captionFile: String, captionFormat: CaptionFormat? = nil,
            output: ShardWriter.Configuration, rejectsFile: String? = nil
        ) throws {
            guard let format = captionFormat ?? CaptionFormat(fileName: captionFile) else {
                throw DataError.invalidConfiguration("cannot tell the format of \(captionFile); name it .jsonl, .csv or .tsv")
            }
            self.imageDirectory = imageDirectory
            self.captionFile = captionFile
            self.captionFormat = format
            self.output = output
            self.rejectsFile = rejectsFile
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Runs the import; `progress(done, total)` is called as pairs are processed.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> ImportReport {
        let table = try CaptionTable.read(path: configuration.captionFile, format: configuration.captionFormat)
        let writer = try ShardWriter(configuration.output)
        let rejects = try RejectsLog(path: configuration.rejectsFile)
        var report = ImportReport()
        report.invalidCaptionLines = table.invalidLines.count
        for (line, reason) in table.invalidLines {
            try rejects.record(RejectedInput(source: "\(configuration.captionFile):\(line)", reason: .noCaption, detail: reason))
        }
        let root = URL(fileURLWithPath: configuration.imageDirectory).standardizedFileURL.path
        for (position, image) in table.order.enumerated() {
            report.inputs += 1
            defer { progress(position + 1, table.order.count) }
            let path = URL(fileURLWithPath: image, relativeTo: URL(fileURLWithPath: root + "/")).standardizedFileURL.path
            func reject(_ reason: RejectReason, _ detail: String? = nil) throws {
                report.reject(reason)
                try rejects.record(RejectedInput(source: image, reason: reason, detail: detail))
            }
            guard path.hasPrefix(root + "/") else {
                try reject(.imageMissing, "path leaves the image directory")
                continue
            }
            guard let texts = table.texts[image], !texts.isEmpty else {
                try reject(.noCaption)
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                try reject(FileManager.default.fileExists(atPath: path) ? .imageUnreadable : .imageMissing)
                continue
            }
            guard !data.isEmpty else {
                try reject(.imageEmpty)
                continue
            }
            guard let format = SniffedImageFormat(data) else {
                try reject(.notAnImage)
                continue
            }
            let record = PairRecord(texts: texts, source: image)
            let key = String(format: "%09d", writer.sampleCount)
            try writer.write(Sample(key: key, files: [format.rawValue: data, "json": try record.encoded()]))
            report.written += 1
        }
        report.shards = try writer.finish().shards
        precondition(report.inputs == report.written + report.rejectedCount, "import accounting must add up")
        return report
    }
}
