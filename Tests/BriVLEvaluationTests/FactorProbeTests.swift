import BriVL
import BriVLInference
import Foundation
import Testing
import Torch

@testable import BriVLEvaluation

@Suite("Factor probe", .serialized)
struct FactorProbeTests {
    typealias Question = FactorProbe.Question

    @Test("tally: right only when strictly above every other candidate; chance is the mean of 1/candidates")
    func tally() {
        let questions = [
            Question(image: 0, factor: "class", candidates: ["a", "b", "c"], answer: 0),
            Question(image: 1, factor: "class", candidates: ["a", "b"], answer: 1),
            Question(image: 0, factor: "colour", candidates: ["x", "y"], answer: 0),
            Question(image: 1, factor: "class", candidates: ["a", "b", "c", "d"], answer: 2),
        ]
        let results = FactorProbe.tally(
            questions, scores: [[0.9, 0.1, 0.2], [0.5, 0.4], [0.3, 0.3], [0.1, 0.2, 0.7, 0.6]])
        #expect(results.map(\.factor) == ["class", "colour"])
        #expect(results[0].questions == 3 && results[0].correct == 2)
        #expect(abs(results[0].chance - (1.0 / 3 + 1.0 / 2 + 1.0 / 4) / 3) < 1e-12)
        // A tie is wrong: a model that scores every caption alike gets nothing, not chance.
        #expect(results[1].questions == 1 && results[1].correct == 0 && results[1].accuracy == 0)
    }

    @Test("through a model: each question's verdict is the argmax of image · caption embeddings")
    func throughModel() throws {
        let root = try ClassificationFixtures.temporaryDirectory("factors")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (model, tokenizer) = try ClassificationFixtures.model()
        let embedder = TowerEmbedder(model: model, tokenizer: tokenizer, batchSize: 3)
        let size = model.configuration.image.imageSize
        let images = try Tensor.randn([4, 3, size, size], generator: Generator(seed: 7))
        let captions = ["红色的方块", "蓝色的方块", "绿色的方块", "黄色的方块"]
        let questions = (0..<4).flatMap { image in
            [
                Question(image: image, factor: "colour", candidates: captions, answer: image),
                Question(image: image, factor: "pair", candidates: Array(captions.prefix(2)), answer: image % 2),
            ]
        }
        let results = try FactorProbe(embedder: embedder).evaluate(images: images, questions: questions)
        let imageVectors = try embedder.embedImages(images)
        let textVectors = try embedder.embedTexts(captions)
        let scores = try imageVectors.matmul(textVectors.transposed()).to(dtype: .float32).contiguous().toArray(Float.self)
        var expected = ["colour": 0, "pair": 0]
        for question in questions {
            let row = question.candidates.indices.map { scores[question.image * 4 + $0] }
            if row.indices.allSatisfy({ $0 == question.answer || row[$0] < row[question.answer] }) {
                expected[question.factor]! += 1
            }
        }
        #expect(results.map(\.factor) == ["colour", "pair"])
        #expect(results[0].correct == expected["colour"] && results[1].correct == expected["pair"])
        #expect(results[0].questions == 4 && abs(results[1].chance - 0.5) < 1e-12)

        let (nearest, meanCosine) = try FactorProbe(embedder: embedder).neighbours(of: captions)
        let cosines = try textVectors.matmul(textVectors.transposed()).to(dtype: .float64).contiguous().toArray(Double.self)
        let pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)].map { cosines[$0.0 * 4 + $0.1] }
        #expect(abs(meanCosine - pairs.reduce(0, +) / 6) < 1e-6)
        let best = (1..<4).max { cosines[$0] < cosines[$1] }!
        #expect(nearest[0].neighbour == captions[best])
    }

    @Test("bad questions are errors before any embedding")
    func badQuestions() throws {
        let (model, tokenizer) = try ClassificationFixtures.model()
        let probe = FactorProbe(embedder: TowerEmbedder(model: model, tokenizer: tokenizer))
        let size = model.configuration.image.imageSize
        let images = try Tensor.zeros([1, 3, size, size])
        for questions in [
            [Question(image: 1, factor: "f", candidates: ["a", "b"], answer: 0)],
            [Question(image: 0, factor: "f", candidates: ["a"], answer: 0)],
            [Question(image: 0, factor: "f", candidates: ["a", "b"], answer: 2)],
            [],
        ] {
            #expect(throws: EvaluationError.self) { try probe.evaluate(images: images, questions: questions) }
        }
    }
}
