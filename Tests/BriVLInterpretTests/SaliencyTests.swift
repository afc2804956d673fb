import BriVL
import Foundation
import Testing
import Torch

@testable import BriVLInterpret

@Suite("Saliency")
struct SaliencyTests {
    /// Sums a pixel map [side][side] into a g×g grid.
    private func cells(_ map: Tensor, grid: Int) throws -> [Double] {
        let side = map.size(0)
        let values = try map.toArray(Float.self)
        var sums = [Double](repeating: 0, count: grid * grid)
        for y in 0..<side { for x in 0..<side { sums[(y * grid / side) * grid + x * grid / side] += Double(values[y * side + x]) } }
        return sums
    }

    @Test("when only the top-right quarter matters, its cell gets the largest score and the others none")
    func oneRegionMatters() throws {
        let image = try Tensor.rand([1, 3, 16, 16], generator: Generator(seed: 1))
        let weights = try Tensor.randn([3, 8, 8], generator: Generator(seed: 2))
        // A non-linear score reading the top-right 8×8 quarter only.
        let (map, _) = try Attribution.pixels(image, baseline: Tensor.zeros([1, 3, 1, 1])) { batch in
            let quarter = try batch.sliced(dimension: 2, start: 0, end: 8).sliced(dimension: 3, start: 8, end: 16)
            return try ((quarter * weights).sum(dimensions: [1, 2, 3]).tanh() + 2).pow(2.0).sum()
        }
        #expect(map.shape == [16, 16])
        let sums = try cells(map, grid: 2).map(abs)
        #expect(sums.firstIndex(of: sums.max()!) == 1)
        #expect(sums[0] == 0 && sums[2] == 0 && sums[3] == 0)
    }

    @Test("attributions add up to score(input) − score(baseline)")
    func completeness() throws {
        let image = try Tensor.rand([1, 3, 8, 8], generator: Generator(seed: 3))
        let weights = try Tensor.randn([3, 8, 8], generator: Generator(seed: 4))
        let baseline = try Tensor.full([1, 3, 1, 1], 0.5)
        func score(_ batch: Tensor) throws -> Tensor { try ((batch * weights).sum(dimensions: [1, 2, 3]) * 0.3).sigmoid() }
        let (map, value) = try Attribution.pixels(image, baseline: baseline, steps: 128) { try score($0).sum() }
        let difference = try score(image).item() - score(baseline.expanded(to: [1, 3, 8, 8])).item()
        #expect(abs(try map.sum().item() - difference) < 0.02 * abs(difference) + 1e-4)
        #expect(abs(value - (try score(image).item())) < 1e-6)
    }

    @Test("a vector that alone decides the score gets all of it")
    func oneVectorMatters() throws {
        let vectors = try Tensor.randn([1, 5, 4], generator: Generator(seed: 5))
        let (scores, _) = try Attribution.vectors(vectors) { batch in
            try batch.selected(dimension: 1, index: 3).pow(2.0).sum()
        }
        let values = try scores.toArray(Float.self)
        #expect(values.firstIndex(of: values.max()!) == 3)
        #expect(values.enumerated().allSatisfy { $0.offset == 3 || $0.element == 0 })
    }

    @Test("MGS regions are placed grid by grid and spread onto the finest grid")
    func regionLayout() throws {
        let configuration = InterpretFixtures.configuration(vocabularySize: 10).image
        let layout = try RegionLayout(configuration)
        #expect(layout.cells.count == 5 && layout.finestGrid == 2)
        #expect(layout.cells[0] == RegionLayout.Cell(grid: 1, row: 0, column: 0))
        #expect(layout.cells[4] == RegionLayout.Cell(grid: 2, row: 1, column: 1))
        let map = layout.finestMap([4, 0, 0, 0, 1])
        #expect(map == [[1, 1], [1, 2]])
    }

    @Test("a pair's saliency covers every pixel, region and real token")
    func pairSaliency() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let image = try Tensor.rand([1, 3, 16, 16], generator: Generator(seed: 6))
        let saliency = try probe.saliency(image: image, text: "左边有一个红色方块", steps: 4)
        #expect(saliency.pixels.count == 16 && saliency.pixels.allSatisfy { $0.count == 16 })
        #expect(saliency.regions.count == 5 && saliency.regionMap.count == 2)
        #expect(saliency.tokens.map(\.token) == ["[CLS]"] + "左边有一个红色方块".map(String.init) + ["[SEP]"])
        let direct = try probe.measure(image, text: probe.textEmbeddings(["左边有一个红色方块"])).cosine[0]
        #expect(abs(saliency.cosine - direct) < 1e-5)
        #expect(throws: InterpretError.self) { try probe.saliency(image: Tensor.rand([1, 3, 8, 8]), text: "红色") }
    }
}
