import Foundation
import Testing
import Torch

@testable import BriVLInference

@Suite("Retrieval recall")
struct RetrievalMetricsTests {
    @Test("recall@k from a known score matrix, both directions; ties count against the match")
    func knownPairRecall() throws {
        // With identity image embeddings the scores are the text matrix transposed: scores = M with
        // M = [[1, .5, .2], [0, .5, .6], [.9, .8, .1]].
        // Rows (image→text): ranks 0, 1, 2.  Columns (text→image): ranks 0, 2 (a tie at .5 and .8), 2.
        let images = try Tensor([1, 0, 0, 0, 1, 0, 0, 0, 1] as [Double], shape: [3, 3])
        let texts = try Tensor([1, 0, 0.9, 0.5, 0.5, 0.8, 0.2, 0.6, 0.1] as [Double], shape: [3, 3])
        let metrics = try RetrievalMetrics.measure(images: images, texts: texts, ks: [1, 2, 3])
        #expect(metrics.imageToText == Recalls([1: 1.0 / 3, 2: 2.0 / 3, 3: 1]))
        #expect(metrics.textToImage == Recalls([1: 1.0 / 3, 2: 1.0 / 3, 3: 1]))
        #expect(metrics.images == 3 && metrics.texts == 3)
    }

    @Test("a model that scores everything alike gets no credit, a perfect one gets full recall")
    func degenerateAndPerfect() throws {
        let same = try Tensor.ones([5, 4]) / 2
        let flat = try RetrievalMetrics.measure(images: same, texts: same, ks: [1, 5])
        #expect(flat.imageToText[1] == 0)
        #expect(flat.imageToText[5] == 1)
        var identity = [Float](repeating: 0, count: 25)
        for i in 0..<5 { identity[i * 6] = 1 }
        let eye = try Tensor(identity, shape: [5, 5])
        let perfect = try RetrievalMetrics.measure(images: eye, texts: eye, ks: [1])
        #expect(perfect.imageToText[1] == 1 && perfect.textToImage[1] == 1 && perfect.meanRecall == 1)
    }

    @Test("several captions per image: an image hits with any of its captions, a caption with its own image")
    func handWorkedMultiCaptionCase() throws {
        // Images 0 and 1; captions 0, 1 belong to image 0 and caption 2 to image 1.
        let scores: [[Float]] = [
            [0.2, 0.9, 0.5],  // image 0: its best caption (1) is first → I→T rank 0
            [0.8, 0.1, 0.3],  // image 1: caption 0 (image 0's) beats its own caption 2 → rank 1
        ]
        let metrics = try RetrievalMetrics.measure(scores: scores, owners: [0, 0, 1], ks: [1, 2])
        #expect(metrics.imageToText == Recalls([1: 0.5, 2: 1.0]))
        // Caption 0: own image 0.2 < image 1 0.8 → rank 1. Caption 1: 0.9 > 0.1 → rank 0. Caption 2: 0.3 < 0.5 → rank 1.
        #expect(metrics.textToImage == Recalls([1: 1.0 / 3, 2: 1.0]))
        #expect(abs(metrics.meanRecall - (0.5 + 1 + 1.0 / 3 + 1) / 4) < 1e-12)
    }

    @Test("constant scores earn nothing with several captions too")
    func constantScoresEarnNothing() throws {
        let metrics = try RetrievalMetrics.measure(
            scores: Array(repeating: [Float](repeating: 0.3, count: 6), count: 3), owners: [0, 0, 1, 1, 2, 2], ks: [1])
        #expect(metrics.imageToText[1] == 0 && metrics.textToImage[1] == 0)
    }

    @Test("the engine's ranks agree with ranks counted one score at a time in Swift")
    func agreesWithDirectCounting() throws {
        let generator = try Generator(seed: 4)
        let images = try Functional.normalize(Tensor.randn([12, 8], generator: generator), dimension: 1)
        let owners = (0..<30).map { $0 % 12 }
        let noisy = try images.indexSelect(dimension: 0, index: Tensor(owners.map(Int64.init)))
            + Tensor.randn([30, 8], generator: generator) * 0.9
        let texts = try Functional.normalize(noisy, dimension: 1)
        let ks = [1, 3, 5]
        let metrics = try RetrievalMetrics.measure(images: images, texts: texts, owners: owners, ks: ks)

        let flat = try images.matmul(texts.transposed()).toArray(Float.self)
        let score = { (image: Int, text: Int) in flat[image * 30 + text] }
        let imageRanks = (0..<12).map { image -> Int in
            let best = owners.indices.filter { owners[$0] == image }.map { score(image, $0) }.max()!
            return owners.indices.filter { owners[$0] != image && score(image, $0) >= best }.count
        }
        let textRanks = owners.indices.map { text in
            (0..<12).filter { $0 != owners[text] && score($0, text) >= score(owners[text], text) }.count
        }
        for k in ks {
            #expect(metrics.imageToText[k] == Double(imageRanks.filter { $0 < k }.count) / 12, "I→T R@\(k)")
            #expect(metrics.textToImage[k] == Double(textRanks.filter { $0 < k }.count) / 30, "T→I R@\(k)")
        }
    }

    @Test("an image without captions, a stray owner or mismatched pairs are refused")
    func refusesBadInput() throws {
        #expect(throws: InferenceError.self) { try RetrievalMetrics.measure(scores: [[1, 0], [0, 1], [0, 0]], owners: [0, 1]) }
        #expect(throws: InferenceError.self) { try RetrievalMetrics.measure(scores: [[1, 0], [0, 1]], owners: [0, 2]) }
        #expect(throws: InferenceError.self) {
            try RetrievalMetrics.measure(images: Tensor.ones([3, 4]), texts: Tensor.ones([2, 4]))
        }
    }

    @Test("recalls are written as an object keyed by the cut-off and read back")
    func recallsRoundTrip() throws {
        let recalls = Recalls([1: 0.25, 10: 1])
        let json = try JSONEncoder().encode(recalls)
        #expect(try JSONSerialization.jsonObject(with: json) as? [String: Double] == ["1": 0.25, "10": 1])
        #expect(try JSONDecoder().decode(Recalls.self, from: json) == recalls)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Recalls.self, from: Data(#"{"top": 1}"#.utf8)) }
    }
}
