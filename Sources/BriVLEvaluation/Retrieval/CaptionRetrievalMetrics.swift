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
    ///   - scores: [images, texts] similarities
    ///   - owners: for each text, the index of its image
    ///
    /// Ranks are computed by the engine; only one integer per query crosses to Swift.
    public static func measure(scores: Tensor, owners: [Int], ks: [Int] = [1, 5, 10]) throws -> CaptionRetrievalMetrics {
        guard scores.rank == 2, scores.size(0) > 0, !owners.isEmpty, scores.size(1) == owners.count else {
            throw EvaluationError.invalidArgument("retrieval needs an [images, texts] score matrix and one owner per text")
        }
        let imageCount = scores.size(0)
        guard owners.allSatisfy({ (0..<imageCount).contains($0) }) else {
            throw EvaluationError.invalidArgument("a caption's image index lies outside 0..<\(imageCount)")
        }
        guard Set(owners).count == imageCount else {
            throw EvaluationError.invalidArgument("every image needs at least one caption")
        }
        let (imageRanks, textRanks) = try withNoGrad { () -> ([Int64], [Int64]) in
            let exact = try scores.to(dtype: .float64)
            let ownerIndex = try Tensor(owners.map(Int64.init), shape: [1, owners.count])
            // owns[i, t]: caption t belongs to image i.
            let owns = try Tensor.arange(imageCount).unsqueezed(1).eq(ownerIndex)
            // Image → text: the best of the image's captions against every caption of other images.
            let best = try exact.maskedFill(owns.logicalNot(), with: -Double.infinity).max(dimension: 1, keepDimensions: true)
                .values
            let imageRanks = try exact.ge(best).logicalAnd(owns.logicalNot()).to(dtype: .int64).sum(dimension: 1)
            // Text → image: the caption's own image against every other image (itself included, hence − 1).
            let own = try exact.gather(dimension: 0, index: ownerIndex)
            let textRanks = try exact.ge(own).to(dtype: .int64).sum(dimension: 0) - 1
            return (try imageRanks.toArray(Int64.self), try textRanks.toArray(Int64.self))
        }
        func recall(_ ranks: [Int64]) -> [Int: Double] {
            Dictionary(uniqueKeysWithValues: ks.map { k in (k, Double(ranks.filter { $0 < k }.count) / Double(ranks.count)) })
        }
        return CaptionRetrievalMetrics(
            imageToText: recall(imageRanks), textToImage: recall(textRanks), images: imageCount, texts: owners.count)
    }

    /// Scores given as one row of text scores per image.
    public static func measure(scores: [[Float]], owners: [Int], ks: [Int] = [1, 5, 10]) throws -> CaptionRetrievalMetrics {
        guard let texts = scores.first?.count, scores.allSatisfy({ $0.count == texts }) else {
            throw EvaluationError.invalidArgument("retrieval needs an [images][texts] score matrix and one owner per text")
        }
        return try measure(scores: Tensor(scores.flatMap { $0 }, shape: [scores.count, texts]), owners: owners, ks: ks)
    }

    public static func measure(images: Tensor, texts: Tensor, owners: [Int], ks: [Int] = [1, 5, 10]) throws
        -> CaptionRetrievalMetrics
    {
        try measure(scores: try withNoGrad { try images.matmul(texts.transposed()) }, owners: owners, ks: ks)
    }
}
