import Foundation
import Testing
import Torch

@Suite("Arithmetic")
struct ArithmeticTests {
    /// [[1, 2, 3], [4, 5, 6]] as float64.
    func matrix() throws -> Tensor { try Tensor([1.0, 2, 3, 4, 5, 6], shape: [2, 3]) }

    @Test("broadcasting tensor arithmetic")
    func broadcasting() throws {
        let m = try matrix()
        let row = try Tensor([10.0, 20.0, 30.0])
        let column = try Tensor([1.0, -1.0], shape: [2, 1])
        try expectTensor(m + row, shape: [2, 3], [11, 22, 33, 14, 25, 36])
        try expectTensor(m - column, shape: [2, 3], [0, 1, 2, 5, 6, 7])
        try expectTensor(m * column, shape: [2, 3], [1, 2, 3, -4, -5, -6])
        try expectTensor(row / m, shape: [2, 3], [10, 10, 10, 2.5, 4, 5])
        // [2, 1] ⊗ [1, 3] → outer product.
        try expectTensor(column * row.unsqueezed(0), shape: [2, 3], [10, 20, 30, -10, -20, -30])
        // Rank-0 tensors broadcast against anything.
        try expectTensor(m * Tensor(scalar: 2.0), shape: [2, 3], [2, 4, 6, 8, 10, 12])
        // float32 with float64 promotes to float64.
        #expect(try (Tensor([1, 2] as [Float]) + Tensor([0.5, 0.25])).dtype == .float64)
    }

    @Test("scalar arithmetic on both sides")
    func scalars() throws {
        let m = try matrix()
        try expectTensor(m + 1.5, shape: [2, 3], [2.5, 3.5, 4.5, 5.5, 6.5, 7.5])
        try expectTensor(m - 1, shape: [2, 3], [0, 1, 2, 3, 4, 5])
        try expectTensor(m * 0.5, shape: [2, 3], [0.5, 1, 1.5, 2, 2.5, 3])
        try expectTensor(m / 4, shape: [2, 3], [0.25, 0.5, 0.75, 1, 1.25, 1.5])
        try expectTensor(10 + m, shape: [2, 3], [11, 12, 13, 14, 15, 16])
        try expectTensor(10 - m, shape: [2, 3], [9, 8, 7, 6, 5, 4])
        try expectTensor(2 * m, shape: [2, 3], [2, 4, 6, 8, 10, 12])
        try expectTensor(6 / m, shape: [2, 3], [6, 3, 2, 1.5, 1.2, 1])
        try expectTensor(-m, shape: [2, 3], [-1, -2, -3, -4, -5, -6])
        // Scalars keep the tensor's floating dtype.
        #expect(try (Tensor([1, 2] as [Float]) * 2.5).dtype == .float32)
        #expect(try (Tensor([1, 2] as [Float]) - Int64(1)).dtype == .float32)
        #expect(try (Tensor([1.0]) + Float(1)).dtype == .float64)
    }

    @Test("integer tensors keep int64 with Int scalars")
    func integerDtypes() throws {
        let ints = try Tensor([1, 2, 3])
        let plus = try ints + 2
        #expect(plus.dtype == .int64)
        #expect(try plus.toArray(Int.self) == [3, 4, 5])
        let times = try ints * 3
        #expect(times.dtype == .int64)
        #expect(try times.toArray(Int.self) == [3, 6, 9])
        let minus = try ints - Int64(1)
        #expect(minus.dtype == .int64)
        #expect(try minus.toArray(Int.self) == [0, 1, 2])
        let reversed = try 10 - ints
        #expect(reversed.dtype == .int64)
        #expect(try reversed.toArray(Int.self) == [9, 8, 7])
        #expect(try (ints + ints).dtype == .int64)
        #expect(try (ints * ints).toArray(Int.self) == [1, 4, 9])
        #expect(try (Tensor([Int32(4)]) + Int32(1)).dtype == .int32)
        #expect(try (Tensor([Int32(4)]) * 2).dtype == .int32)
        #expect(try (Tensor([UInt8(200)]) + 1).dtype == .uint8)

        // Division is true division; floating scalars promote to the default float type.
        let half = try ints / 2
        #expect(half.dtype == .float32)
        #expect(try half.toArray(Float.self) == [0.5, 1, 1.5])
        #expect(try (ints * 2.5).dtype == .float32)
        #expect(try (ints * 2.5).toArray(Float.self) == [2.5, 5, 7.5])
        #expect(try (ints + Tensor([0.5])).dtype == .float64)
        #expect(try (6 / ints).toArray(Float.self) == [6, 3, 2])
        #expect(try (-ints).toArray(Int.self) == [-1, -2, -3])
    }

    @Test("pow, maximum, minimum and clamped")
    func powAndBounds() throws {
        let x = try Tensor([1.0, 4.0, 9.0])
        try expectTensor(x.pow(0.5), shape: [3], [1, 2, 3])
        try expectTensor(x.pow(2), shape: [3], [1, 16, 81])
        try expectTensor(x.pow(Tensor([2.0, 0.5, -1.0])), shape: [3], [1, 2, 1.0 / 9])
        #expect(try Tensor([2, 3]).pow(2).dtype == .int64)
        #expect(try Tensor([2, 3]).pow(2).toArray(Int.self) == [4, 9])

        let a = try Tensor([1.0, 5.0, -3.0])
        let b = try Tensor([2.0, 4.0, -3.5])
        try expectTensor(a.maximum(b), shape: [3], [2, 5, -3])
        try expectTensor(a.minimum(b), shape: [3], [1, 4, -3.5])
        try expectTensor(a.maximum(Tensor([0.0])), shape: [3], [1, 5, 0])

        let values = try Tensor([-2.0, -0.5, 0.5, 2.0])
        try expectTensor(values.clamped(min: -1, max: 1), shape: [4], [-1, -0.5, 0.5, 1])
        try expectTensor(values.clamped(min: 0), shape: [4], [0, 0, 0.5, 2])
        try expectTensor(values.clamped(max: 0), shape: [4], [-2, -0.5, 0, 0])
    }

    @Test("elementwise functions")
    func elementwise() throws {
        let x = try Tensor([-1.0, 0.0, 1.0, 2.0])
        try expectTensor(x.abs(), shape: [4], [1, 0, 1, 2])
        try expectTensor(x.sign(), shape: [4], [-1, 0, 1, 1])
        try expectTensor(x.exp(), shape: [4], [exp(-1), 1, exp(1), exp(2)])
        try expectTensor(x.relu(), shape: [4], [0, 0, 1, 2])
        try expectTensor(x.sigmoid(), shape: [4], [1 / (1 + exp(1)), 0.5, 1 / (1 + exp(-1)), 1 / (1 + exp(-2))])
        try expectTensor(x.tanh(), shape: [4], [tanh(-1), 0, tanh(1), tanh(2)])
        try expectTensor(x.silu(), shape: [4], [-1 / (1 + exp(1)), 0, 1 / (1 + exp(-1)), 2 / (1 + exp(-2))])
        try expectTensor(x.erf(), shape: [4], [erf(-1), 0, erf(1), erf(2)])
        try expectTensor(x.sin(), shape: [4], [sin(-1), 0, sin(1), sin(2)])
        try expectTensor(x.cos(), shape: [4], [cos(-1), 1, cos(1), cos(2)])
        try expectTensor(x.gelu(), shape: [4], [-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416])
        let tanhGelu = { (v: Double) in 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) }
        try expectTensor(x.gelu(approximateWithTanh: true), shape: [4], [-1.0, 0, 1, 2].map(tanhGelu))
        try expectTensor(Tensor([-1.5, 1.5]).floor(), shape: [2], [-2, 1])

        let p = try Tensor([0.25, 1.0, 4.0])
        try expectTensor(p.log(), shape: [3], [log(0.25), 0, log(4)])
        try expectTensor(p.log1p(), shape: [3], [log(1.25), log(2), log(5)])
        try expectTensor(p.sqrt(), shape: [3], [0.5, 1, 2])
        try expectTensor(p.rsqrt(), shape: [3], [2, 1, 0.5])
        try expectTensor(p.reciprocal(), shape: [3], [4, 1, 0.25])
        // float32 results agree to float32 precision.
        let f = try Tensor([0.5, 1.5] as [Float])
        expectClose(try f.exp().toArray(Float.self), [Float(exp(0.5)), Float(exp(1.5))], absolute: 1e-5)
    }

    @Test("comparisons produce bool tensors")
    func comparisons() throws {
        let a = try Tensor([1.0, 2.0, 3.0])
        let b = try Tensor([3.0, 2.0, 1.0])
        #expect(try a.eq(b).dtype == .bool)
        #expect(try a.eq(b).toArray(Bool.self) == [false, true, false])
        #expect(try a.ne(b).toArray(Bool.self) == [true, false, true])
        #expect(try a.lt(b).toArray(Bool.self) == [true, false, false])
        #expect(try a.le(b).toArray(Bool.self) == [true, true, false])
        #expect(try a.gt(b).toArray(Bool.self) == [false, false, true])
        #expect(try a.ge(b).toArray(Bool.self) == [false, true, true])
        #expect(try a.gt(1.5).toArray(Bool.self) == [false, true, true])
        #expect(try a.ge(2).dtype == .bool)
        #expect(try a.ge(2).toArray(Bool.self) == [false, true, true])
        #expect(try a.lt(2).toArray(Bool.self) == [true, false, false])
        #expect(try a.le(2.0).toArray(Bool.self) == [true, true, false])
        #expect(try a.eq(3).toArray(Bool.self) == [false, false, true])
        #expect(try a.ne(3).toArray(Bool.self) == [true, true, false])
        #expect(try Tensor([1, 5]).gt(Tensor([2.5])).toArray(Bool.self) == [false, true])
        // Broadcasting comparison.
        #expect(try a.unsqueezed(1).lt(b).shape == [3, 3])

        let p = try Tensor([true, true, false, false])
        let q = try Tensor([true, false, true, false])
        #expect(try p.logicalAnd(q).toArray(Bool.self) == [true, false, false, false])
        #expect(try p.logicalOr(q).toArray(Bool.self) == [true, true, true, false])
        #expect(try p.logicalNot().toArray(Bool.self) == [false, false, true, true])
        #expect(try p.all().toArray(Bool.self) == [false])
        #expect(try p.any().toArray(Bool.self) == [true])
        #expect(try Tensor([1.0, 2.0]).all().dtype == .bool)
        #expect(try Tensor([1.0, 2.0]).all().item() == 1)
        #expect(try Tensor([0.0, 0.0]).any().item() == 0)
    }

    @Test("matmul, mm and bmm values")
    func products() throws {
        let a = try Tensor([1.0, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = try Tensor([1.0, 0, 0, 1, 1, 1], shape: [3, 2])
        try expectTensor(a.matmul(b), shape: [2, 2], [4, 5, 10, 11])
        try expectTensor(a.mm(b), shape: [2, 2], [4, 5, 10, 11])
        try expectTensor(a.matmul(Tensor([1.0, 1.0, 1.0])), shape: [2], [6, 15])
        try expectTensor(Tensor([1.0, 1.0]).matmul(a), shape: [3], [5, 7, 9])
        // Batched with a broadcast right-hand side.
        let batch = try Tensor.stack([a, a * 2.0])
        try expectTensor(batch.matmul(b), shape: [2, 2, 2], [4, 5, 10, 11, 8, 10, 20, 22])
        try expectTensor(
            batch.bmm(Tensor.stack([b, b])), shape: [2, 2, 2], [4, 5, 10, 11, 8, 10, 20, 22])
        // float32 with BLAS.
        let f = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        #expect(try f.matmul(f).toArray(Float.self) == [7, 10, 15, 22])
    }
}

@Suite("Reductions")
struct ReductionTests {
    /// [[1, 5, 3], [4, 2, 6]] as float64.
    func matrix() throws -> Tensor { try Tensor([1.0, 5, 3, 4, 2, 6], shape: [2, 3]) }

    @Test("sum and mean, with and without keepDimensions")
    func sumMean() throws {
        let m = try matrix()
        try expectTensor(m.sum(), shape: [], [21])
        try expectTensor(m.sum(dimension: 0), shape: [3], [5, 7, 9])
        try expectTensor(m.sum(dimension: 1, keepDimensions: true), shape: [2, 1], [9, 12])
        try expectTensor(m.sum(dimensions: [0, 1], keepDimensions: true), shape: [1, 1], [21])
        try expectTensor(m.sum(dimension: -1), shape: [2], [9, 12])
        try expectTensor(m.mean(), shape: [], [3.5])
        try expectTensor(m.mean(dimension: 0, keepDimensions: true), shape: [1, 3], [2.5, 3.5, 4.5])
        try expectTensor(m.mean(dimensions: [1]), shape: [2], [3, 4])
        // Integer sums stay integral.
        let ints = try Tensor([1, 2, 3])
        #expect(try ints.sum().dtype == .int64)
        #expect(try ints.sum().itemInt() == 6)
    }

    @Test("variance, norm and logSumExp")
    func statistics() throws {
        let x = try Tensor([1.0, 2.0, 3.0, 4.0])
        try expectTensor(x.variance(dimensions: [0]), shape: [], [5.0 / 3])
        try expectTensor(x.variance(dimensions: [0], unbiased: false), shape: [], [1.25])
        try expectTensor(
            matrix().variance(dimensions: [1], keepDimensions: true), shape: [2, 1], [4, 4])

        let v = try Tensor([3.0, -4.0])
        try expectTensor(v.norm(), shape: [], [5])
        try expectTensor(v.norm(1), shape: [], [7])
        try expectTensor(v.norm(.infinity), shape: [], [4])
        try expectTensor(Tensor([3.0, 4.0, 6.0, 8.0], shape: [2, 2]).norm(2, dimensions: [1]), shape: [2], [5, 10])
        try expectTensor(
            Tensor([3.0, 4.0, 6.0, 8.0], shape: [2, 2]).norm(2, dimensions: [1], keepDimensions: true),
            shape: [2, 1], [5, 10])

        try expectTensor(Tensor([1.0, 2.0]).logSumExp(dimensions: [0]), shape: [], [2.3132616875182226])
        // Stable for large values.
        try expectTensor(Tensor([1000.0, 1000.0]).logSumExp(dimensions: [0]), shape: [], [1000 + log(2)])
        try expectTensor(
            Tensor([0.0, 0.0, 1000.0, 1000.0], shape: [2, 2]).logSumExp(dimensions: [1], keepDimensions: true),
            shape: [2, 1], [log(2), 1000 + log(2)])
    }

    @Test("max, min, argmax and argmin")
    func extremes() throws {
        let m = try matrix()
        #expect(try m.max().item() == 6)
        #expect(try m.min().item() == 1)
        let (values, indices) = try m.max(dimension: 1)
        try expectTensor(values, shape: [2], [5, 6])
        #expect(indices.dtype == .int64)
        #expect(try indices.toArray(Int.self) == [1, 2])
        let (minValues, minIndices) = try m.min(dimension: 0, keepDimensions: true)
        try expectTensor(minValues, shape: [1, 3], [1, 2, 3])
        #expect(try minIndices.toArray(Int.self) == [0, 1, 0])
        #expect(try m.argmax(dimension: 0).toArray(Int.self) == [1, 0, 1])
        #expect(try m.argmax(dimension: 1, keepDimensions: true).shape == [2, 1])
        #expect(try m.argmin(dimension: 1).toArray(Int.self) == [0, 1])
        #expect(try Tensor([3, 9, 2]).max().itemInt() == 9)
    }

    @Test("topK values and indices")
    func topK() throws {
        let x = try Tensor([4.0, 1.0, 7.0, 3.0, 9.0])
        let (values, indices) = try x.topK(3)
        try expectTensor(values, shape: [3], [9, 7, 4])
        #expect(try indices.toArray(Int.self) == [4, 2, 0])
        let (small, smallIndices) = try x.topK(2, largest: false)
        try expectTensor(small, shape: [2], [1, 3])
        #expect(try smallIndices.toArray(Int.self) == [1, 3])

        let m = try matrix()
        let (columnTop, columnIndices) = try m.topK(1, dimension: 0)
        try expectTensor(columnTop, shape: [1, 3], [4, 5, 6])
        #expect(try columnIndices.toArray(Int.self) == [1, 0, 1])
        let (rowTop, rowIndices) = try m.topK(2, dimension: 1)
        try expectTensor(rowTop, shape: [2, 2], [5, 3, 6, 4])
        #expect(try rowIndices.toArray(Int.self) == [1, 2, 2, 0])
    }

    @Test("softmax rows sum to one and match the closed form")
    func softmax() throws {
        try expectTensor(
            Tensor([1.0, 2.0, 3.0]).softmax(), shape: [3],
            [0.09003057317038046, 0.24472847105479767, 0.6652409557748219])
        let x = try normalInput([4, 5], seed: 1, scale: 3)
        try expectTensor(x.softmax(dimension: 1).sum(dimension: 1), shape: [4], [1, 1, 1, 1], absolute: 1e-12)
        try expectTensor(x.softmax(dimension: 0).sum(dimension: 0), shape: [5], [1, 1, 1, 1, 1], absolute: 1e-12)
        #expect(try x.softmax().min().item() > 0)
        // logSoftmax = log ∘ softmax, and is finite where softmax underflows.
        expectClose(try x.logSoftmax().toArray(Double.self), try x.softmax().log().toArray(Double.self), absolute: 1e-12)
        let extreme = try Tensor([0.0, 1000.0])
        try expectTensor(extreme.logSoftmax(), shape: [2], [-1000, 0])
        try expectTensor(extreme.softmax(), shape: [2], [0, 1])
        // float32 softmax.
        let f = try Tensor([1, 2, 3] as [Float]).softmax()
        expectClose(try f.toArray(Float.self), [0.09003057, 0.24472847, 0.66524096], absolute: 1e-6)
    }
}

@Suite("In-place updates")
struct InPlaceTests {
    @Test("addInPlace with alpha and with a scalar")
    func add() throws {
        let x = try Tensor([1.0, 2.0, 3.0])
        try x.addInPlace(Tensor([1.0, 1.0, 1.0]), alpha: 2)
        try expectTensor(x, shape: [3], [3, 4, 5])
        try x.addInPlace(Tensor([10.0]))  // broadcast
        try expectTensor(x, shape: [3], [13, 14, 15])
        try x.addInPlace(Tensor([1.0, 2.0, 3.0]), alpha: -0.5)
        try expectTensor(x, shape: [3], [12.5, 13, 13.5])
        try x.addInPlace(0.5)
        try expectTensor(x, shape: [3], [13, 13.5, 14])
        let ints = try Tensor([1, 2])
        try ints.addInPlace(3)
        #expect(ints.dtype == .int64)
        #expect(try ints.toArray(Int.self) == [4, 5])
    }

    @Test("multiplyInPlace and divideInPlace")
    func multiplyDivide() throws {
        let x = try Tensor([1.0, 2.0, 3.0])
        try x.multiplyInPlace(Tensor([2.0, 3.0, 4.0]))
        try expectTensor(x, shape: [3], [2, 6, 12])
        try x.multiplyInPlace(0.5)
        try expectTensor(x, shape: [3], [1, 3, 6])
        try x.divideInPlace(Tensor([2.0]))
        try expectTensor(x, shape: [3], [0.5, 1.5, 3])
    }

    @Test("addProductInPlace, addQuotientInPlace and lerpInPlace")
    func fused() throws {
        let x = try Tensor([1.0, 1.0, 1.0])
        try x.addProductInPlace(Tensor([1.0, 2.0, 3.0]), Tensor([4.0, 5.0, 6.0]))
        try expectTensor(x, shape: [3], [5, 11, 19])
        try x.addProductInPlace(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 1.0, 1.0]), value: -2)
        try expectTensor(x, shape: [3], [3, 7, 13])

        let y = try Tensor([0.0, 0.0, 0.0])
        try y.addQuotientInPlace(Tensor([1.0, 2.0, 3.0]), Tensor([2.0, 4.0, 0.5]))
        try expectTensor(y, shape: [3], [0.5, 0.5, 6])
        try y.addQuotientInPlace(Tensor([1.0, 1.0, 1.0]), Tensor([4.0, 4.0, 4.0]), value: 2)
        try expectTensor(y, shape: [3], [1, 1, 6.5])

        let z = try Tensor([0.0, 10.0])
        try z.lerpInPlace(towards: Tensor([10.0, 0.0]), weight: 0.25)
        try expectTensor(z, shape: [2], [2.5, 7.5])
        try z.lerpInPlace(towards: Tensor([1.0, 1.0]), weight: 1)
        try expectTensor(z, shape: [2], [1, 1])
    }

    @Test("clampInPlace, copyInPlace, fillInPlace and zeroInPlace")
    func overwrite() throws {
        let x = try Tensor([-2.0, 0.5, 3.0])
        try x.clampInPlace(min: -1, max: 1)
        try expectTensor(x, shape: [3], [-1, 0.5, 1])
        try x.clampInPlace(min: 0)
        try expectTensor(x, shape: [3], [0, 0.5, 1])
        try x.clampInPlace(max: 0.75)
        try expectTensor(x, shape: [3], [0, 0.5, 0.75])

        let target = try Tensor.zeros([2, 3], dtype: .float64)
        // Broadcast and convert from int64.
        try target.copyInPlace(from: Tensor([1, 2, 3]))
        try expectTensor(target, shape: [2, 3], [1, 2, 3, 1, 2, 3])
        #expect(target.dtype == .float64)
        // Copying into a view writes the base.
        try target[1].copyInPlace(from: Tensor([7.0, 8.0, 9.0]))
        try expectTensor(target, shape: [2, 3], [1, 2, 3, 7, 8, 9])

        try target.fillInPlace(4.25)
        try expectTensor(target, shape: [2, 3], [4.25, 4.25, 4.25, 4.25, 4.25, 4.25])
        try target.fillInPlace(2)
        try expectTensor(target, shape: [2, 3], [2, 2, 2, 2, 2, 2])
        try target.zeroInPlace()
        try expectTensor(target, shape: [2, 3], [0, 0, 0, 0, 0, 0])

        let ints = try Tensor([5, 6])
        try ints.fillInPlace(Int64(-3))
        #expect(try ints.toArray(Int.self) == [-3, -3])
    }
}
