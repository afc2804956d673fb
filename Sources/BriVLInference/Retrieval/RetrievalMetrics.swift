import Torch

/// Recall@k of cross-modal retrieval, where each image has one or more captions (COCO and Flickr30k have five, the
/// caption corpus a Chinese and an English one, a validation set of pairs exactly one):
/// - image → text: an image scores a hit at k when any of its captions is among the k best texts;
/// - text → image: a caption scores a hit when its own image is among the k best images.
/// Ties count against the query, so a model that scores everything alike gets no credit. Ranks are computed by the
/// engine; only one integer per query crosses to Swift.
public struct RetrievalMetrics: Sendable, Equatable, Codable {
    public var imageToText: Recalls
    public var textToImage: Recalls
    public var images: Int
    public var texts: Int

    public static let defaultCutoffs = [1, 5, 10]

    /// The mean of every recall (the "mean recall" of CLIP-style retrieval benchmarks).
    public var meanRecall: Double {
        let values = Array(imageToText.values.values) + Array(textToImage.values.values)
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// - Parameters:
    ///   - scores: [images, texts] similarities
    ///   - owners: for each text, the index of its image; every image needs at least one
    public static func measure(scores: Tensor, owners: [Int], ks: [Int] = defaultCutoffs) throws -> RetrievalMetrics {
        guard scores.rank == 2, scores.size(0) > 0, !owners.isEmpty, scores.size(1) == owners.count else {
            throw InferenceError.invalidArgument("retrieval needs an [images, texts] score matrix and one owner per text")
        }
        let imageCount = scores.size(0)
        guard owners.allSatisfy({ (0..<imageCount).contains($0) }) else {
            throw InferenceError.invalidArgument("a caption's image index lies outside 0..<\(imageCount)")
        }
        guard Set(owners).count == imageCount else {
            throw InferenceError.invalidArgument("every image needs at least one caption")
        }
        guard ks.allSatisfy({ $0 > 0 }) else { throw InferenceError.invalidArgument("recall cut-offs are positive") }
        let (imageRanks, textRanks) = try withNoGrad { () -> ([Int64], [Int64]) in
            let exact = try scores.to(dtype: .float64)
            let ownerIndex = try Tensor(owners.map(Int64.init), shape: [1, owners.count]).to(device: scores.device)
            // owns[i, t]: caption t belongs to image i.
            let owns = try Tensor.arange(imageCount, device: scores.device).unsqueezed(1).eq(ownerIndex)
            // Image → text: the best of the image's captions against every caption of other images.
            let best = try exact.maskedFill(owns.logicalNot(), with: -Double.infinity)
                .max(dimension: 1, keepDimensions: true).values
            let imageRanks = try exact.ge(best).logicalAnd(owns.logicalNot()).to(dtype: .int64).sum(dimension: 1)
            // Text → image: the caption's own image against every other image (itself included, hence − 1).
            let own = try exact.gather(dimension: 0, index: ownerIndex)
            let textRanks = try exact.ge(own).to(dtype: .int64).sum(dimension: 0) - 1
            return (try imageRanks.toArray(Int64.self), try textRanks.toArray(Int64.self))
        }
        func recalls(_ ranks: [Int64]) -> Recalls {
            Recalls(Dictionary(uniqueKeysWithValues: ks.map { k in (k, Double(ranks.filter { $0 < k }.count) / Double(ranks.count)) }))
        }
        return RetrievalMetrics(
            imageToText: recalls(imageRanks), textToImage: recalls(textRanks), images: imageCount, texts: owners.count)
    }

    /// Scores given as one row of text scores per image.
    public static func measure(scores: [[Float]], owners: [Int], ks: [Int] = defaultCutoffs) throws -> RetrievalMetrics {
        guard let texts = scores.first?.count, scores.allSatisfy({ $0.count == texts }) else {
            throw InferenceError.invalidArgument("retrieval needs an [images][texts] score matrix and one owner per text")
        }
        return try measure(scores: Tensor(scores.flatMap { $0 }, shape: [scores.count, texts]), owners: owners, ks: ks)
    }

    /// - Parameters:
    ///   - images: [images, dim] L2-normalised embeddings
    ///   - texts: [texts, dim] L2-normalised embeddings
    ///   - owners: for each text, the index of its image; nil when text i is the caption of image i and nothing else
    public static func measure(images: Tensor, texts: Tensor, owners: [Int]? = nil, ks: [Int] = defaultCutoffs) throws
        -> RetrievalMetrics
    {
        guard images.rank == 2, texts.rank == 2, images.size(1) == texts.size(1) else {
            throw InferenceError.invalidArgument(
                "retrieval needs [n, dim] image and text embeddings of one width, got \(images.shape) and \(texts.shape)")
        }
        if owners == nil, images.size(0) != texts.size(0) {
            throw InferenceError.invalidArgument(
                "\(images.size(0)) images and \(texts.size(0)) texts cannot be matched pair by pair; give each text's image")
        }
        let scores = try withNoGrad { try images.matmul(texts.transposed()) }
        return try measure(scores: scores, owners: owners ?? Array(0..<images.size(0)), ks: ks)
    }
}
