import Testing
import Torch

@Suite("Shapes, views and indexing")
struct ShapeTests {
    /// [[0, 1, 2], [3, 4, 5]] as float64.
    func matrix() throws -> Tensor { try Tensor([0.0, 1, 2, 3, 4, 5], shape: [2, 3]) }

    @Test("reshaped with -1, view, flattened, squeezed and unsqueezed")
    func reshapes() throws {
        let t = try Tensor.arange(24).reshaped([2, 3, 4])
        #expect(try t.reshaped([-1, 4]).shape == [6, 4])
        #expect(try t.reshaped(2, -1).shape == [2, 12])
        #expect(try t.reshaped([-1]).shape == [24])
        #expect(try t.reshaped([4, 3, 2]).toArray(Int.self) == Array(0..<24))
        #expect(try t.view([3, 8]).shape == [3, 8])
        #expect(try t.flattened().shape == [24])
        #expect(try t.flattened(from: 1).shape == [2, 12])
        #expect(try t.flattened(from: 0, through: 1).shape == [6, 4])

        let ones = try Tensor.zeros([1, 3, 1, 2])
        #expect(try ones.squeezed().shape == [3, 2])
        #expect(try ones.squeezed(0).shape == [3, 1, 2])
        #expect(try ones.squeezed(2).shape == [1, 3, 2])
        // Squeezing a dimension that is not 1 leaves it.
        #expect(try ones.squeezed(1).shape == [1, 3, 1, 2])
        #expect(try ones.unsqueezed(0).shape == [1, 1, 3, 1, 2])
        #expect(try ones.unsqueezed(-1).shape == [1, 3, 1, 2, 1])
    }

    @Test("permuted, transposed, expanded and repeated values")
    func rearrangements() throws {
        let m = try matrix()
        try expectTensor(m.transposed(), shape: [3, 2], [0, 3, 1, 4, 2, 5])
        let t = try Tensor.arange(24).reshaped([2, 3, 4])
        let p = try t.permuted(2, 0, 1)
        #expect(p.shape == [4, 2, 3])
        // p[i][j][k] = t[j][k][i] = 12j + 4k + i
        #expect(try p[1][1][2].itemInt() == 12 + 8 + 1)
        #expect(try t.transposed(0, 2).shape == [4, 3, 2])

        let row = try Tensor([1.0, 2.0, 3.0])
        let expanded = try row.expanded(to: [2, 3])
        try expectTensor(expanded, shape: [2, 3], [1, 2, 3, 1, 2, 3])
        // Expansion does not copy: the new dimension has stride 0.
        #expect(expanded.strides == [0, 1])
        try expectTensor(Tensor([1.0, 2.0], shape: [2, 1]).expanded(to: [-1, 3]), shape: [2, 3], [1, 1, 1, 2, 2, 2])

        try expectTensor(Tensor([1.0, 2.0]).repeated([2, 2]), shape: [2, 4], [1, 2, 1, 2, 1, 2, 1, 2])
        try expectTensor(m.repeated([1, 2]), shape: [2, 6], [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
    }

    @Test("views share storage with their base")
    func viewsShareStorage() throws {
        let base = try Tensor.zeros([3, 4], dtype: .float64)
        try base.narrowed(dimension: 1, start: 1, length: 2).fillInPlace(1.0)
        try base[2].addInPlace(Tensor.full([4], 10.0, dtype: .float64))
        try base.transposed()[3].fillInPlace(-1.0)  // column 3
        try base.reshaped([12])[0..<1].fillInPlace(7.0)
        try base.view([2, 6]).selected(dimension: 1, index: 5).multiplyInPlace(3.0)  // elements 5 and 11
        try base.sliced(dimension: 0, start: 0, end: 3, step: 2).selected(dimension: 1, index: 0).addInPlace(0.5)
        try expectTensor(
            base, shape: [3, 4],
            [7.5, 1, 1, -1,
             0, 3, 1, -1,
             10.5, 11, 11, -3])

        // detach() and alias() share storage too; clone() does not.
        let detached = try base.detach()
        let alias = try base.alias()
        let clone = try base.clone()
        try base.zeroInPlace()
        #expect(try detached.sum().item() == 0)
        #expect(try alias.sum().item() == 0)
        #expect(try clone.sum().item() == 41)
    }

    @Test("cat and stack")
    func catStack() throws {
        let a = try Tensor([1.0, 2.0], shape: [1, 2])
        let b = try Tensor([3.0, 4.0, 5.0, 6.0], shape: [2, 2])
        try expectTensor(Tensor.cat([a, b]), shape: [3, 2], [1, 2, 3, 4, 5, 6])
        try expectTensor(
            Tensor.cat([b, b.transposed()], dimension: 1), shape: [2, 4], [3, 4, 3, 5, 5, 6, 4, 6])
        try expectTensor(Tensor.stack([a, a * 2.0]), shape: [2, 1, 2], [1, 2, 2, 4])
        try expectTensor(Tensor.stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], dimension: 1), shape: [2, 2], [1, 3, 2, 4])
        try expectTensor(Tensor.stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], dimension: -1), shape: [2, 2], [1, 3, 2, 4])
    }

    @Test("split and chunked sizes")
    func splitChunk() throws {
        let t = try Tensor.arange(6)
        let pieces = try t.split(sizes: [1, 2, 3])
        #expect(pieces.map(\.shape) == [[1], [2], [3]])
        #expect(try pieces[2].toArray(Int.self) == [3, 4, 5])

        #expect(try Tensor.arange(10).chunked(4).map(\.shape) == [[3], [3], [3], [1]])
        // Chunks have size ⌈n / chunks⌉, so fewer pieces than asked for can come back.
        #expect(try Tensor.arange(6).chunked(4).map(\.shape) == [[2], [2], [2]])
        #expect(try Tensor.arange(5).chunked(6).map(\.shape) == [[1], [1], [1], [1], [1]])
        #expect(try Tensor.arange(5).chunked(1).map(\.shape) == [[5]])

        let m = try Tensor.arange(12).reshaped([3, 4])
        let columns = try m.chunked(2, dimension: 1)
        #expect(columns.map(\.shape) == [[3, 2], [3, 2]])
        #expect(try columns[1].toArray(Int.self) == [2, 3, 6, 7, 10, 11])
        let rows = try m.split(sizes: [2, 1], dimension: 0)
        #expect(try rows[1].toArray(Int.self) == [8, 9, 10, 11])
        // Pieces are views.
        try rows[1].fillInPlace(0)
        #expect(try m.sum().itemInt() == 28)
    }

    @Test("subscripts, narrowed, sliced and selected")
    func slicing() throws {
        let m = try Tensor.arange(12).reshaped([3, 4])
        #expect(try m[1].toArray(Int.self) == [4, 5, 6, 7])
        #expect(try m[-1].toArray(Int.self) == [8, 9, 10, 11])
        #expect(try m[1][2].itemInt() == 6)
        #expect(try m[1][2].rank == 0)
        #expect(try m[1..<3].shape == [2, 4])
        #expect(try m[1..<3].toArray(Int.self) == Array(4..<12))
        #expect(try m[0..<0].shape == [0, 4])
        #expect(try m.narrowed(dimension: 1, start: 1, length: 2).toArray(Int.self) == [1, 2, 5, 6, 9, 10])
        #expect(try m.sliced(dimension: 1, start: 0, end: 4, step: 3).toArray(Int.self) == [0, 3, 4, 7, 8, 11])
        #expect(try m.sliced(dimension: 0, start: 1, end: 100).shape == [2, 4])
        #expect(try m.selected(dimension: 1, index: -1).toArray(Int.self) == [3, 7, 11])
    }

    @Test("indexSelect and gather")
    func indexing() throws {
        let m = try matrix()
        try expectTensor(m.indexSelect(dimension: 0, index: Tensor([1, 1, 0])), shape: [3, 3], [3, 4, 5, 3, 4, 5, 0, 1, 2])
        try expectTensor(m.indexSelect(dimension: 1, index: Tensor([2, 0])), shape: [2, 2], [2, 0, 5, 3])
        // Int32 indices are accepted too.
        try expectTensor(m.indexSelect(dimension: 1, index: Tensor([Int32(1)])), shape: [2, 1], [1, 4])

        // out[i][j] = m[i][index[i][j]]
        let index = try Tensor([2, 0, 1, 1], shape: [2, 2])
        try expectTensor(m.gather(dimension: 1, index: index), shape: [2, 2], [2, 0, 4, 4])
        // out[i][j] = m[index[i][j]][j]
        let rowIndex = try Tensor([1, 0, 1], shape: [1, 3])
        try expectTensor(m.gather(dimension: 0, index: rowIndex), shape: [1, 3], [3, 1, 5])
    }

    @Test("maskedFill and where")
    func masking() throws {
        let m = try matrix()
        let mask = try Tensor([true, false, true, false, false, true], shape: [2, 3])
        try expectTensor(m.maskedFill(mask, with: -1.0), shape: [2, 3], [-1, 1, -1, 3, 4, -1])
        // The mask broadcasts; an Int fill value on a float tensor.
        try expectTensor(m.maskedFill(Tensor([false, true, false]), with: 9), shape: [2, 3], [0, 9, 2, 3, 9, 5])
        // maskedFill does not modify its input.
        #expect(try m.sum().item() == 15)

        let other = try Tensor.full([2, 3], 100.0, dtype: .float64)
        try expectTensor(Tensor.where(mask, m, other), shape: [2, 3], [0, 100, 2, 100, 100, 5])
        // Broadcasting condition and operands.
        try expectTensor(
            Tensor.where(Tensor([true, false], shape: [2, 1]), Tensor([1.0, 2.0, 3.0]), Tensor([-1.0])),
            shape: [2, 3], [1, 2, 3, -1, -1, -1])
    }

    @Test("lowerTriangle, upperTriangle and oneHot")
    func triangles() throws {
        let m = try Tensor.ones([3, 3], dtype: .float64)
        try expectTensor(m.lowerTriangle(), shape: [3, 3], [1, 0, 0, 1, 1, 0, 1, 1, 1])
        try expectTensor(m.lowerTriangle(diagonal: -1), shape: [3, 3], [0, 0, 0, 1, 0, 0, 1, 1, 0])
        try expectTensor(m.upperTriangle(diagonal: 1), shape: [3, 3], [0, 1, 1, 0, 0, 1, 0, 0, 0])
        try expectTensor(m.upperTriangle(), shape: [3, 3], [1, 1, 1, 0, 1, 1, 0, 0, 1])

        let oneHot = try Tensor([0, 2, 1]).oneHot(classes: 3)
        #expect(oneHot.dtype == .int64)
        #expect(oneHot.shape == [3, 3])
        #expect(try oneHot.toArray(Int.self) == [1, 0, 0, 0, 0, 1, 0, 1, 0])
        #expect(try Tensor([3, 0], shape: [1, 2]).oneHot(classes: 4).shape == [1, 2, 4])
    }
}
