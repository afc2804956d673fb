import Foundation
import GradientChecking
import Testing
import Torch

@testable import BriVL

private func normalized(_ values: [Double], _ shape: [Int]) throws -> Tensor {
    try Functional.normalize(Tensor(values, shape: shape), dimension: 1)
}

/// −log(softmax(row)[index]) in plain Swift.
private func crossEntropy(_ row: [Double], _ index: Int) -> Double {
    let maximum = row.max()!
    let total = row.map { Foundation.exp($0 - maximum) }.reduce(0, +)
    return -(row[index] - maximum - Foundation.log(total))
}

private func dot(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double { zip(a, b).map(*).reduce(0, +) }

@Suite("Contrastive losses")
struct ContrastiveLossTests {
    @Test("in-batch InfoNCE equals the hand-computed mean of both directions")
    func inBatchValue() throws {
        let image = try normalized([1, 0, 0.6, 0.8, 0, 1], [3, 2])
        let text = try normalized([0.8, 0.6, 0, 1, 1, 1], [3, 2])
        let logScale = try Tensor(scalar: Foundation.log(10.0))
        let output = try InBatchContrastiveLoss()(image: image, text: text, logScale: logScale)

        let i = try image.toArray(Double.self)
        let t = try text.toArray(Double.self)
        let logits = (0..<3).map { r in (0..<3).map { c in 10 * dot(i[(2 * r)..<(2 * r + 2)], t[(2 * c)..<(2 * c + 2)]) } }
        let imageToText = (0..<3).map { crossEntropy(logits[$0], $0) }.reduce(0, +) / 3
        let textToImage = (0..<3).map { c in crossEntropy((0..<3).map { logits[$0][c] }, c) }.reduce(0, +) / 3
        #expect(abs(try output.imageToText.item() - imageToText) < 1e-9)
        #expect(abs(try output.textToImage.item() - textToImage) < 1e-9)
        #expect(abs(try output.loss.item() - (imageToText + textToImage) / 2) < 1e-9)
        #expect(abs(output.scale - 10) < 1e-9)
    }

    @Test("hard negatives join the image→text softmax of every image; text→image is unchanged")
    func inBatchHardNegativesValue() throws {
        let image = try normalized([1, 0, 0.6, 0.8, 0, 1], [3, 2])
        let text = try normalized([0.8, 0.6, 0, 1, 1, 1], [3, 2])
        let foils = try normalized([1, 0.1, 0.2, 1], [2, 2])
        let logScale = try Tensor(scalar: Foundation.log(10.0))
        let loss = InBatchContrastiveLoss()
        let output = try loss(image: image, text: text, logScale: logScale, hardNegatives: foils)
        let plain = try loss(image: image, text: text, logScale: logScale)

        let i = try image.toArray(Double.self)
        let columns = try text.toArray(Double.self) + foils.toArray(Double.self)
        let logits = (0..<3).map { r in (0..<5).map { c in 10 * dot(i[(2 * r)..<(2 * r + 2)], columns[(2 * c)..<(2 * c + 2)]) } }
        let imageToText = (0..<3).map { crossEntropy(logits[$0], $0) }.reduce(0, +) / 3
        let textToImage = (0..<3).map { c in crossEntropy((0..<3).map { logits[$0][c] }, c) }.reduce(0, +) / 3
        #expect(abs(try output.imageToText.item() - imageToText) < 1e-9)
        #expect(abs(try output.textToImage.item() - textToImage) < 1e-9)
        #expect(abs(try output.textToImage.item() - plain.textToImage.item()) < 1e-12)
        // A foil close to an image makes its image→text loss strictly larger.
        #expect(try output.imageToText.item() > plain.imageToText.item() + 1e-3)

        let none = try loss(image: image, text: text, logScale: logScale, hardNegatives: Tensor.zeros([0, 2], dtype: .float64))
        #expect(abs(try none.loss.item() - plain.loss.item()) < 1e-12)
        #expect(throws: ModelError.self) {
            try loss(image: image, text: text, logScale: logScale, hardNegatives: normalized([1, 0, 0], [1, 3]))
        }
    }

    @Test("InfoNCE with hard negatives: gradients w.r.t. embeddings, foils and the log-scale match finite differences")
    func inBatchHardNegativeGradients() throws {
        let image = try Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 4))
        let text = try Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 5))
        let foils = try Tensor.randn([3, 3], dtype: .float64, generator: Generator(seed: 6))
        let logScale = try Tensor(scalar: 1.5)
        let report = try gradientReport([image, text, foils, logScale]) { inputs in
            try InBatchContrastiveLoss()(
                image: Functional.normalize(inputs[0], dimension: 1), text: Functional.normalize(inputs[1], dimension: 1),
                logScale: inputs[3], hardNegatives: Functional.normalize(inputs[2], dimension: 1)
            ).loss
        }
        #expect(report.passed, "\(report)")
    }

    @Test("the temperature is clamped at the maximum scale")
    func clampedScale() throws {
        let x = try normalized([1, 0, 0, 1], [2, 2])
        let output = try InBatchContrastiveLoss(maximumScale: 100)(image: x, text: x, logScale: Tensor(scalar: 10.0))
        #expect(abs(output.scale - 100) < 1e-9)
    }

    @Test("InfoNCE gradients w.r.t. embeddings and the log-scale match finite differences")
    func inBatchGradients() throws {
        let image = try Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 1))
        let text = try Tensor.randn([4, 3], dtype: .float64, generator: Generator(seed: 2))
        let logScale = try Tensor(scalar: 1.5)
        let report = try gradientReport([image, text, logScale]) { inputs in
            try InBatchContrastiveLoss()(
                image: Functional.normalize(inputs[0], dimension: 1), text: Functional.normalize(inputs[1], dimension: 1),
                logScale: inputs[2]
            ).loss
        }
        #expect(report.passed, "\(report)")
    }

    @Test("MoCo loss: positive against the queue, summed over both directions; keys and queues get no gradient")
    func momentumValue() throws {
        let generator = try Generator(seed: 3)
        func unit(_ shape: [Int]) throws -> Tensor {
            try Functional.normalize(Tensor.randn(shape, dtype: .float64, generator: generator), dimension: 1)
        }
        let (imageQueries, textQueries) = (try unit([2, 4]).requiringGrad(), try unit([2, 4]).requiringGrad())
        let (imageKeys, textKeys) = (try unit([2, 4]).requiringGrad(), try unit([2, 4]).requiringGrad())
        let (imageQueue, textQueue) = (try unit([6, 4]), try unit([6, 4]))
        let loss = try MomentumContrastiveLoss(temperature: 0.07)
        let output = try loss(
            imageQueries: imageQueries, textQueries: textQueries, imageKeys: imageKeys, textKeys: textKeys,
            imageQueue: imageQueue, textQueue: textQueue)

        func expected(_ queries: Tensor, _ keys: Tensor, _ queue: Tensor) throws -> Double {
            let q = try queries.toArray(Double.self), k = try keys.toArray(Double.self), Q = try queue.toArray(Double.self)
            return (0..<2).map { r in
                let row = [dot(q[(4 * r)..<(4 * r + 4)], k[(4 * r)..<(4 * r + 4)])]
                    + (0..<6).map { n in dot(q[(4 * r)..<(4 * r + 4)], Q[(4 * n)..<(4 * n + 4)]) }
                return crossEntropy(row.map { $0 / 0.07 }, 0)
            }.reduce(0, +) / 2
        }
        let imageToText = try expected(imageQueries, textKeys, textQueue)
        let textToImage = try expected(textQueries, imageKeys, imageQueue)
        #expect(abs(try output.loss.item() - (imageToText + textToImage)) < 1e-9)

        try output.loss.backward()
        #expect(imageQueries.grad != nil && textQueries.grad != nil)
        #expect(imageKeys.grad == nil && textKeys.grad == nil)
    }

    @Test("the key queue overwrites the oldest keys, wraps around and refuses batches that do not divide it")
    func queueMechanics() throws {
        let queue = try KeyQueue(capacity: 4, dimension: 2, generator: Generator(seed: 4))
        #expect(queue.keys.shape == [4, 2])
        let norms = try queue.keys.norm(2, dimensions: [1]).toArray(Double.self)
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-6 })
        try queue.enqueue(Tensor([1, 1, 2, 2] as [Float], shape: [2, 2]))
        #expect(queue.position == 2)
        try queue.enqueue(Tensor([3, 3, 4, 4] as [Float], shape: [2, 2]))
        #expect(queue.position == 0)
        try queue.enqueue(Tensor([5, 5, 6, 6] as [Float], shape: [2, 2]))
        #expect(try queue.keys.toArray(Float.self) == [5, 5, 6, 6, 3, 3, 4, 4])
        #expect(queue.position == 2)
        #expect(throws: ModelError.self) { try queue.enqueue(Tensor.zeros([3, 2])) }
        #expect(throws: ModelError.self) { try queue.enqueue(Tensor.zeros([2, 3])) }

        let restored = try KeyQueue(keys: queue.keys.clone(), position: queue.position)
        try restored.enqueue(Tensor([7, 7, 8, 8] as [Float], shape: [2, 2]))
        #expect(try restored.keys.toArray(Float.self) == [5, 5, 6, 6, 7, 7, 8, 8])
    }
}
