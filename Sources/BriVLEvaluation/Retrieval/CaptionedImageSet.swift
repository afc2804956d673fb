import BriVLData
import BriVLInference
import Foundation
import Imaging
import Torch

/// Images with all their captions, read from WebDataset shards and preprocessed for a model: retrieval's test set.
/// Samples without an image or a caption, or whose image cannot be decoded, are skipped and listed.
public struct CaptionedImageSet {
    /// [n, 3, size, size]
    public var images: Tensor
    public var captions: [String]
    /// For each caption, the index of its image.
    public var owners: [Int]
    public var keys: [String]
    /// Each image's caption-record metadata (empty where the record has none).
    public var metadata: [[String: String]] = []
    public var skipped: [String]

    /// - Parameters:
    ///   - pipeline: the model's image preparation (default: shorter side, centre crop, CLIP statistics at
    ///     `imageSize`)
    ///   - limit: read at most this many images
    ///   - captionsPerImage: keep at most this many captions of each image (nil: all)
    public static func load(
        directory: String, imageSize: Int, pipeline: ImagePipeline? = nil, limit: Int = .max,
        captionsPerImage: Int? = nil, progress: (Int) -> Void = { _ in }
    ) throws -> CaptionedImageSet {
        let pipeline = try pipeline ?? ImagePipeline.evaluation(size: imageSize)
        let shards = try LoaderConfiguration.discoverShards(in: directory)
        var random = SeededRandom(seed: 0)
        var tensors: [Tensor] = []
        var captions: [String] = []
        var owners: [Int] = []
        var keys: [String] = []
        var metadata: [[String: String]] = []
        var skipped: [String] = []
        reading: for shard in shards {
            let reader = try ShardReader(path: shard)
            while let sample = try reader.nextSample() {
                if tensors.count >= limit { break reading }
                let source = "\((shard as NSString).lastPathComponent):\(sample.key)"
                do {
                    guard let image = sample.image else { throw DataError.invalidSample(key: sample.key, reason: "no image") }
                    let record = try PairRecord.decode(from: sample)
                    var texts = record.captions
                    if let captionsPerImage { texts = Array(texts.prefix(captionsPerImage)) }
                    guard !texts.isEmpty else { throw DataError.invalidSample(key: sample.key, reason: "no caption") }
                    let tensor = try pipeline.tensor(decoding: image.data, using: &random)
                    owners += Array(repeating: tensors.count, count: texts.count)
                    captions += texts
                    tensors.append(tensor)
                    keys.append(source)
                    metadata.append(record.metadata ?? [:])
                    progress(tensors.count)
                } catch {
                    skipped.append("\(source): \(error)")
                }
            }
        }
        guard !tensors.isEmpty else {
            throw EvaluationError.invalidFile(file: directory, line: nil, message: "no usable image–caption pairs")
        }
        return CaptionedImageSet(
            images: try Tensor.stack(tensors), captions: captions, owners: owners, keys: keys, metadata: metadata,
            skipped: skipped)
    }
}

extension RetrievalMetrics {
    /// The report: recall at every k both ways and mean recall.
    public func report(model: String, dataset: String, settings: [String: String], skipped: [String]) -> EvaluationReport {
        var metrics = ["mean_recall": meanRecall]
        for (k, value) in imageToText.values { metrics["image_to_text_r\(k)"] = value }
        for (k, value) in textToImage.values { metrics["text_to_image_r\(k)"] = value }
        let ks = imageToText.cutoffs
        return EvaluationReport(
            task: "retrieval", model: model, dataset: dataset, metrics: metrics,
            settings: settings.merging(["images": String(images), "captions": String(texts)]) { $1 },
            tables: [
                ReportTable(
                    title: "Retrieval recall (%)",
                    columns: ["images", "captions"] + ks.map { "I→T R@\($0)" } + ks.map { "T→I R@\($0)" } + ["mean recall"],
                    rows: [row(ks)])
            ],
            skipped: skipped)
    }

    /// The table's one row: sizes, recall at every cut-off both ways, mean recall.
    private func row(_ ks: [Int]) -> [String] {
        let percent = EvaluationReport.percent
        let imageToTextCells: [String] = ks.map { percent(imageToText[$0] ?? 0) }
        let textToImageCells: [String] = ks.map { percent(textToImage[$0] ?? 0) }
        return [String(images), String(texts)] + imageToTextCells + textToImageCells + [percent(meanRecall)]
    }
}
