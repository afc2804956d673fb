import Testing

@testable import BriVLSearch

@Suite("Class scoring")
struct ClassScoringTests {
    /// Deterministic unit vectors.
    static func unitVectors(_ count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var state = seed
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        return (0..<count).map { _ in
            let raw = (0..<dimension).map { _ in next() }
            let norm = raw.map { $0 * $0 }.reduce(0, +).squareRoot()
            return raw.map { $0 / norm }
        }
    }

    @Test("best classes over several row chunks equal a plain loop's argmax and cosine")
    func bestClasses() throws {
        let dimension = 8
        let images = Self.unitVectors(23, dimension: dimension, seed: 1)
        let classes = Self.unitVectors(5, dimension: dimension, seed: 2)
        let best = try ClassScoring.bestClasses(
            of: images.flatMap { $0 }, dimension: dimension, classVectors: classes, chunkRows: 7)
        #expect(best.count == images.count)
        for (image, found) in zip(images, best) {
            let cosines = classes.map { zip(image, $0).map { $0 * $1 }.reduce(0, +) }
            let expected = cosines.indices.max { cosines[$0] < cosines[$1] }!
            #expect(found.classIndex == expected)
            #expect(abs(found.score - cosines[expected]) < 1e-5)
        }
    }

    @Test("one vector's scores follow the classes' order; mismatched widths are refused")
    func scores() throws {
        let classes = Self.unitVectors(3, dimension: 4, seed: 3)
        let vector = Self.unitVectors(1, dimension: 4, seed: 4)[0]
        let scores = try ClassScoring.scores(of: vector, classVectors: classes)
        let expected = classes.map { zip(vector, $0).map { $0 * $1 }.reduce(0, +) }
        #expect(scores.count == 3)
        for (a, b) in zip(scores, expected) { #expect(abs(a - b) < 1e-6) }
        #expect(throws: SearchError.self) { try ClassScoring.scores(of: [1, 0], classVectors: classes) }
        #expect(throws: SearchError.self) {
            try ClassScoring.bestClasses(of: [1, 0, 0], dimension: 2, classVectors: [[1, 0]])
        }
    }
}
