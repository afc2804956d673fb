import Torch

/// Recall@k of cross-modal retrieval where pair i's image and text match each other (and nothing else).
public struct RetrievalMetrics: Codable, Sendable, Equatable {
    /// k → recall of images querying texts.
    public var imageToText: [Int: Double]
    /// k → recall of texts querying images.
    public var textToImage: [Int: Double]
    public var pairs: Int

    /// The mean of all recalls (CLIP benchmarks' "mean recall").
    public var meanRecall: Double {
        let values = Array(imageToText.values) + Array(textToImage.values)
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// - Parameters:
    ///   - images, texts: [n, dim] embeddings of n matching pairs (L2-normalised)
    ///   - ks: the cut-offs, e.g. [1, 5, 10]
    public static func measure(images: Tensor, texts: Tensor, ks: [Int] = [1, 5, 10]) throws -> RetrievalMetrics {
        guard images.rank == 2, images.shape == texts.shape, images.size(0) > 0 else {
            throw ModelError.invalidInput("retrieval needs [n, dim] image and text embeddings of the same shape")
        }
        let scores = try withNoGrad { try images.matmul(texts.transposed()) }
        return RetrievalMetrics(
            imageToText: try recalls(scores, ks: ks), textToImage: try recalls(scores.transposed(), ks: ks),
            pairs: images.size(0))
    }

    /// Ranks of the matching column in each row: the number of other columns scoring at least as high (ties count
    /// against the match, so a model that scores everything alike gets no credit).
    static func recalls(_ scores: Tensor, ks: [Int]) throws -> [Int: Double] {
        let n = scores.size(0)
        let exact = try scores.to(dtype: .float64)
        let diagonal = try exact.diagonalValues().unsqueezed(1)
        let atLeast = try exact.ge(diagonal).to(dtype: .int64).sum(dimension: 1)
        let ranks = try atLeast.toArray(Int64.self).map { $0 - 1 }
        var result: [Int: Double] = [:]
        for k in ks { result[k] = Double(ranks.filter { $0 < k }.count) / Double(n) }
        return result
    }
}

extension Tensor {
    /// The main diagonal of a square matrix, [n].
    fileprivate func diagonalValues() throws -> Tensor {
        let n = size(0)
        let index = try Tensor.arange(n, device: device).unsqueezed(1)
        return try gather(dimension: 1, index: index).squeezed(1)
    }
}
