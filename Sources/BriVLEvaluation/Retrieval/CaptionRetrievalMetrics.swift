import Torch

/// Recall@k of cross-modal retrieval where an image may have several captions (COCO and Flickr30k have five,
/// the caption corpus has a Chinese and an English one):
/// - image → text: an image scores a hit at k when any of its captions is among the k best texts;
/// - text → image: a caption scores a hit when its own image is among the k best images.
/// Ties count against the query, so a model that scores everything alike gets no credit.
public struct CaptionRetrievalMetrics: Sendable, Equatable {
    public var imageToText: [Int: Double]
    public var textToImage: [Int: Double]
    public var images: Int
    public var texts: Int

    /// The mean of every recall (the usual "mean recall" of retrieval benchmarks).
    public var meanRecall: Double {
        let values = Array(imageToText.values) + Array(textToImage.values)
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// - Parameters:
    ///   - scores: [images][texts] similarities
    ///   - owners: for each text, the index of its image
    public static func measure(scores: [[Float]], owners: [Int], ks: [Int] = [1, 5, 10]) throws -> CaptionRetrievalMetrics {
        let imageCount = scores.count
        guard imageCount > 0, owners.count > 0, scores.allSatisfy({ $0.count == owners.count }) else {
            throw EvaluationError.invalidArgument("retrieval needs an [images][texts] score matrix and one owner per text")
        }
        guard owners.allSatisfy({ (0..<imageCount).contains($0) }) else {
            throw EvaluationError.invalidArgument("a caption's image index lies outside 0..<\(imageCount)")
        }
        var captions = Array(repeating: [Int](), count: imageCount)
        for (text, owner) in owners.enumerated() { captions[owner].append(text) }
        guard captions.allSatisfy({ !$0.isEmpty }) else {
            throw EvaluationError.invalidArgument("every image needs at least one caption")
        }
        // Image → text: the best of the image's captions against every caption of other images.
        let imageRanks = scores.indices.map { image -> Int in
            let row = scores[image]
            let best = captions[image].map { row[$0] }.max()!
            return row.indices.filter { owners[$0] != image && row[$0] >= best }.count
        }
        // Text → image: the caption's own image against every other image.
        let textRanks = owners.indices.map { text -> Int in
            let own = scores[owners[text]][text]
            return scores.indices.filter { $0 != owners[text] && scores[$0][text] >= own }.count
        }
        func recall(_ ranks: [Int]) -> [Int: Double] {
            Dictionary(uniqueKeysWithValues: ks.map { k in (k, Double(ranks.filter { $0 < k }.count) / Double(ranks.count)) })
        }
        return CaptionRetrievalMetrics(
            imageToText: recall(imageRanks), textToImage: recall(textRanks), images: imageCount, texts: owners.count)
    }

    public static func measure(images: Tensor, texts: Tensor, owners: [Int], ks: [Int] = [1, 5, 10]) throws
        -> CaptionRetrievalMetrics
    {
        let scores = try withNoGrad { try images.matmul(texts.transposed()) }
        return try measure(scores: try scores.rows(), owners: owners, ks: ks)
    }
}
