import Foundation
import GradientChecking
import Testing
import Torch

@testable import BriVLEvaluation

@Suite("MultipleChoiceLoss: scale · cosine, cross-entropy over each question's options")
struct MultipleChoiceLossTests {
    @Test("scores and loss match a hand computation")
    func handComputed() throws {
        // Image (1, 0); options at cosines 1, 0 and −1 (their lengths must not matter).
        let image = try Tensor([1.0, 0.0] as [Double], shape: [1, 2])
        let options = try Tensor([2.0, 0, 0, 3, -0.5, 0] as [Double], shape: [1, 3, 2])
        let loss = MultipleChoiceLoss(scale: 2)
        let scores = try loss.scores(image: image, options: options).toArray(Double.self)
        #expect(zip(scores, [2.0, 0, -2]).allSatisfy { abs($0 - $1) < 1e-12 })
        let value = try loss(image: image, options: options, answers: Tensor([Int64(0)])).item()
        #expect(abs(value - log(1 + exp(-2) + exp(-4))) < 1e-12)
        // With the second option right: −log(e⁰ / (e² + e⁰ + e⁻²)).
        let second = try loss(image: image, options: options, answers: Tensor([Int64(1)])).item()
        #expect(abs(second - log(exp(2) + 1 + exp(-2))) < 1e-12)
    }

    @Test("the loss is the mean over questions, and an empty slot changes nothing")
    func meanAndPadding() throws {
        let loss = MultipleChoiceLoss(scale: 5)
        let generator = try Generator(seed: 3)
        let image = try Tensor.randn([2, 4], dtype: .float64, generator: generator)
        let options = try Tensor.randn([2, 3, 4], dtype: .float64, generator: generator)
        let answers = try Tensor([Int64(2), 0])
        let both = try loss(image: image, options: options, answers: answers).item()
        var separate = 0.0
        for row in 0..<2 {
            separate += try loss(
                image: image.narrowed(dimension: 0, start: row, length: 1),
                options: options.narrowed(dimension: 0, start: row, length: 1),
                answers: answers.narrowed(dimension: 0, start: row, length: 1)
            ).item() / 2
        }
        #expect(abs(both - separate) < 1e-12)

        // The first question with only its first two options, as one padded slot of a three-wide batch.
        let padding = try Tensor([false, false, true], shape: [1, 3])
        let first = try image.narrowed(dimension: 0, start: 0, length: 1)
        let firstOptions = try options.narrowed(dimension: 0, start: 0, length: 1)
        let padded = try loss(image: first, options: firstOptions, answers: Tensor([Int64(1)]), padding: padding).item()
        let trimmed = try loss(
            image: first, options: firstOptions.narrowed(dimension: 1, start: 0, length: 2), answers: Tensor([Int64(1)])
        ).item()
        #expect(abs(padded - trimmed) < 1e-12)
    }

    @Test("gradients with respect to image and option embeddings match finite differences")
    func gradientCheck() throws {
        let generator = try Generator(seed: 9)
        let image = try Tensor.randn([3, 5], dtype: .float64, generator: generator)
        let options = try Tensor.randn([3, 4, 5], dtype: .float64, generator: generator)
        let answers = try Tensor([Int64(1), 3, 0])
        let padding = try Tensor([false, false, false, false, false, false, false, false, false, false, false, true], shape: [3, 4])
        let loss = MultipleChoiceLoss(scale: 3)
        let report = try gradientReport([image, options], tolerance: 1e-5) { inputs in
            try loss(image: inputs[0], options: inputs[1], answers: answers, padding: padding)
        }
        #expect(report.passed, "\(report)")
        #expect(report.checked == 15 + 60)
    }

    @Test("mismatched shapes are refused")
    func shapes() throws {
        let loss = MultipleChoiceLoss(scale: 1)
        #expect(throws: EvaluationError.self) {
            try loss.scores(image: Tensor.zeros([2, 4]), options: Tensor.zeros([2, 3, 5]))
        }
    }
}
