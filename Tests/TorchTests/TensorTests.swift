import Foundation
import Testing
import Torch

/// Counts calls from any thread (the engine may release memory on another thread).
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

@Suite("Tensor creation")
struct CreationTests {
    @Test("zeros, ones and full")
    func constantTensors() throws {
        let zeros = try Tensor.zeros([2, 3])
        #expect(zeros.shape == [2, 3])
        #expect(zeros.dtype == .float32)
        #expect(try zeros.toArray(Float.self) == [0, 0, 0, 0, 0, 0])

        let ones = try Tensor.ones([4], dtype: .int32)
        #expect(ones.dtype == .int32)
        #expect(try ones.toArray(Int32.self) == [1, 1, 1, 1])

        let full = try Tensor.full([2, 2], 2.5, dtype: .float64)
        #expect(full.dtype == .float64)
        #expect(try full.toArray(Double.self) == [2.5, 2.5, 2.5, 2.5])

        let integers = try Tensor.full([3], 7, dtype: .int64)
        #expect(try integers.toArray(Int.self) == [7, 7, 7])

        let bools = try Tensor.ones([2], dtype: .bool)
        #expect(try bools.toArray(Bool.self) == [true, true])

        let scalar = try Tensor.zeros([])
        #expect(scalar.rank == 0)
        #expect(scalar.count == 1)

        let empty = try Tensor.empty([3, 0])
        #expect(empty.shape == [3, 0])
        #expect(empty.count == 0)
        #expect(try empty.toArray(Float.self).isEmpty)
    }

    @Test("arange")
    func arange() throws {
        let counting = try Tensor.arange(5)
        #expect(counting.dtype == .int64)
        #expect(try counting.toArray(Int.self) == [0, 1, 2, 3, 4])

        let stepped = try Tensor.arange(0, 10, step: 3)
        #expect(try stepped.toArray(Int.self) == [0, 3, 6, 9])

        let fractional = try Tensor.arange(1, 2, step: 0.25, dtype: .float64)
        #expect(try fractional.toArray(Double.self) == [1, 1.25, 1.5, 1.75])

        let descending = try Tensor.arange(3, 0, step: -1, dtype: .float32)
        #expect(try descending.toArray(Float.self) == [3, 2, 1])

        #expect(try Tensor.arange(0).count == 0)
    }

    @Test("rand and randn are reproducible with the same generator seed")
    func seededRandomness() throws {
        let a = try Tensor.rand([4, 5], generator: Generator(seed: 42))
        let b = try Tensor.rand([4, 5], generator: Generator(seed: 42))
        let c = try Tensor.rand([4, 5], generator: Generator(seed: 43))
        #expect(try a.equals(b))
        #expect(try !a.equals(c))

        let n1 = try Tensor.randn([100], dtype: .float64, generator: Generator(seed: 7))
        let n2 = try Tensor.randn([100], dtype: .float64, generator: Generator(seed: 7))
        let n3 = try Tensor.randn([100], dtype: .float64, generator: Generator(seed: 8))
        #expect(try n1.toArray(Double.self) == n2.toArray(Double.self))
        #expect(try n1.toArray(Double.self) != n3.toArray(Double.self))

        // Consecutive draws from one generator differ; reseeding restarts the sequence.
        let generator = try Generator(seed: 99)
        let first = try Tensor.rand([10], dtype: .float64, generator: generator).toArray(Double.self)
        let second = try Tensor.rand([10], dtype: .float64, generator: generator).toArray(Double.self)
        #expect(first != second)
        try generator.reseed(99)
        let again = try Tensor.rand([10], dtype: .float64, generator: generator).toArray(Double.self)
        #expect(again == first)

        // The float32 draw is the float64 draw rounded.
        let single = try Tensor.rand([10], dtype: .float32, generator: Generator(seed: 99)).toArray(Float.self)
        #expect(single == first.map { Float($0) })
    }

    @Test("rand lies in [0, 1) and randn is standard normal")
    func randomDistributions() throws {
        let uniform = try Tensor.rand([20_000], dtype: .float64, generator: Generator(seed: 1))
        #expect(try uniform.min().item() >= 0)
        #expect(try uniform.max().item() < 1)
        #expect(Swift.abs(try uniform.mean().item() - 0.5) < 0.01)

        let normal = try Tensor.randn([20_000], dtype: .float64, generator: Generator(seed: 2))
        #expect(Swift.abs(try normal.mean().item()) < 0.03)
        #expect(Swift.abs(try normal.variance(dimensions: [0]).item() - 1) < 0.04)
        #expect(try normal.min().item() < -3)
        #expect(try normal.max().item() > 3)
    }

    @Test("randint stays in its range and reaches every value")
    func randint() throws {
        let values = try Tensor.randint(3..<7, shape: [1000], generator: Generator(seed: 5))
        #expect(values.dtype == .int64)
        #expect(values.shape == [1000])
        let array = try values.toArray(Int.self)
        #expect(Set(array) == [3, 4, 5, 6])

        let repeated = try Tensor.randint(3..<7, shape: [1000], generator: Generator(seed: 5))
        #expect(try repeated.equals(values))

        let narrow = try Tensor.randint(-2..<(-1), shape: [2, 2], dtype: .int32)
        #expect(narrow.dtype == .int32)
        #expect(try narrow.toArray(Int32.self) == [-2, -2, -2, -2])
    }

    @Test("randperm is a permutation")
    func randperm() throws {
        let permutation = try Tensor.randperm(50, generator: Generator(seed: 3))
        #expect(permutation.dtype == .int64)
        let values = try permutation.toArray(Int.self)
        #expect(values.sorted() == Array(0..<50))
        #expect(values != Array(0..<50))
        #expect(try Tensor.randperm(50, generator: Generator(seed: 3)).toArray(Int.self) == values)
        #expect(try Tensor.randperm(50, generator: Generator(seed: 4)).toArray(Int.self) != values)
    }

    @Test("uniformInPlace and normalInPlace with a generator")
    func inPlaceRandom() throws {
        let a = try Tensor.empty([1000], dtype: .float64)
        try a.uniformInPlace(-3, -1, generator: Generator(seed: 10))
        #expect(try a.min().item() >= -3)
        #expect(try a.max().item() < -1)
        let b = try Tensor.empty([1000], dtype: .float64)
        try b.uniformInPlace(-3, -1, generator: Generator(seed: 10))
        #expect(try a.equals(b))

        let c = try Tensor.empty([10_000], dtype: .float64)
        try c.normalInPlace(mean: 5, std: 2, generator: Generator(seed: 11))
        #expect(Swift.abs(try c.mean().item() - 5) < 0.1)
        #expect(Swift.abs(try c.variance(dimensions: [0]).item() - 4) < 0.25)
    }

    @Test("Engine.seed is accepted and unseeded draws still work")
    func globalSeed() throws {
        // Other tests draw from the global generator concurrently, so reproducibility of unseeded draws cannot be
        // asserted here; seeded reproducibility is covered through explicit generators above.
        Engine.seed(123)
        let a = try Tensor.rand([3])
        #expect(a.shape == [3])
        #expect(try a.min().item() >= 0)
    }
}

@Suite("Tensor data")
struct DataTests {
    @Test("init from arrays of every element type and toArray round-trips")
    func roundTrips() throws {
        let floats: [Float] = [1.5, -2.25, 3, 0]
        let floatTensor = try Tensor(floats, shape: [2, 2])
        #expect(floatTensor.dtype == .float32)
        #expect(floatTensor.shape == [2, 2])
        #expect(try floatTensor.toArray(Float.self) == floats)

        let doubles: [Double] = [1e-300, -2.5, .pi]
        let doubleTensor = try Tensor(doubles)
        #expect(doubleTensor.dtype == .float64)
        #expect(try doubleTensor.toArray(Double.self) == doubles)

        let int64s: [Int64] = [Int64.max, Int64.min, 0]
        let int64Tensor = try Tensor(int64s)
        #expect(int64Tensor.dtype == .int64)
        #expect(try int64Tensor.toArray(Int64.self) == int64s)

        let ints: [Int] = [1, -2, 3, 4, 5, 6]
        let intTensor = try Tensor(ints, shape: [3, 2])
        #expect(intTensor.dtype == .int64)
        #expect(try intTensor.toArray(Int.self) == ints)

        let int32s: [Int32] = [Int32.max, -7]
        let int32Tensor = try Tensor(int32s)
        #expect(int32Tensor.dtype == .int32)
        #expect(try int32Tensor.toArray(Int32.self) == int32s)

        let int16s: [Int16] = [Int16.min, 300]
        let int16Tensor = try Tensor(int16s)
        #expect(int16Tensor.dtype == .int16)
        #expect(try int16Tensor.toArray(Int16.self) == int16s)

        let int8s: [Int8] = [-128, 127, 0]
        let int8Tensor = try Tensor(int8s)
        #expect(int8Tensor.dtype == .int8)
        #expect(try int8Tensor.toArray(Int8.self) == int8s)

        let bytes: [UInt8] = [0, 255, 128]
        let byteTensor = try Tensor(bytes)
        #expect(byteTensor.dtype == .uint8)
        #expect(try byteTensor.toArray(UInt8.self) == bytes)

        let bools = [true, false, false, true]
        let boolTensor = try Tensor(bools, shape: [4, 1])
        #expect(boolTensor.dtype == .bool)
        #expect(try boolTensor.toArray(Bool.self) == bools)
    }

    @Test("scalar, empty and zero-size tensors")
    func specialShapes() throws {
        let scalar = try Tensor(scalar: 3.5)
        #expect(scalar.shape == [])
        #expect(scalar.rank == 0)
        #expect(scalar.count == 1)
        #expect(try scalar.item() == 3.5)

        let integer = try Tensor(scalar: Int32(-4))
        #expect(integer.dtype == .int32)
        #expect(try integer.itemInt() == -4)

        let empty = try Tensor([Float]())
        #expect(empty.shape == [0])
        #expect(try empty.toArray(Float.self) == [])

        let zeroRows = try Tensor([Double](), shape: [0, 3])
        #expect(zeroRows.shape == [0, 3])
        #expect(zeroRows.count == 0)
    }

    @Test("toArray converts between dtypes")
    func conversions() throws {
        let doubles = try Tensor([2.7, -2.7, 0.5])
        // Float → integer conversion truncates toward zero.
        #expect(try doubles.toArray(Int.self) == [2, -2, 0])
        #expect(try doubles.toArray(Float.self) == [2.7, -2.7, 0.5])
        #expect(try doubles.toArray(Bool.self) == [true, true, true])

        let ints = try Tensor([0, 3, -1])
        #expect(try ints.toArray(Double.self) == [0, 3, -1])
        #expect(try ints.toArray(Bool.self) == [false, true, true])
        #expect(try ints.toArray(Int8.self) == [0, 3, -1])

        let bools = try Tensor([true, false])
        #expect(try bools.toArray(Float.self) == [1, 0])
        #expect(try bools.toArray(Int.self) == [1, 0])

        // Half precisions round: 1/3 has 11 significant bits in float16 and 8 in bfloat16.
        let third = try Tensor([1.0 / 3.0])
        #expect(try third.to(.float16).toArray(Double.self) == [0.333251953125])
        #expect(try third.to(.bfloat16).toArray(Double.self) == [0.333984375])
        #expect(try third.to(.float16).dtype == .float16)

        // Wrapping on narrowing integer conversions follows C.
        #expect(try Tensor([300]).to(.uint8).toArray(Int.self) == [44])
    }

    @Test("to(dtype:copy:) shares storage only when nothing changes and no copy is asked for")
    func toSharing() throws {
        let base = try Tensor([1.0, 2.0, 3.0])
        let same = try base.to(dtype: .float64)
        let copied = try base.to(dtype: .float64, copy: true)
        try base.fillInPlace(9.0)
        #expect(try same.toArray(Double.self) == [9, 9, 9])
        #expect(try copied.toArray(Double.self) == [1, 2, 3])
        let converted = try base.to(.float32)
        try base.fillInPlace(1.0)
        #expect(try converted.toArray(Float.self) == [9, 9, 9])
        #expect(try base.to(device: .cpu).device == .cpu)
    }

    @Test("item, itemInt, equals and isClose")
    func scalarsAndComparisons() throws {
        #expect(try Tensor([2.5]).item() == 2.5)
        #expect(try Tensor([Float(0.1)]).item() == Double(Float(0.1)))
        #expect(try Tensor([7]).itemInt() == 7)
        #expect(try Tensor([7.9]).itemInt() == 7)
        #expect(try Tensor([true]).item() == 1)

        let a = try Tensor([1.0, 2.0])
        #expect(try a.equals(Tensor([1.0, 2.0])))
        #expect(try !a.equals(Tensor([1.0, 2.000001])))
        #expect(try !a.equals(Tensor([1.0, 2.0, 3.0])))
        #expect(try a.isClose(to: Tensor([1.0, 2.000001])))
        #expect(try !a.isClose(to: Tensor([1.0, 2.001])))
        #expect(try a.isClose(to: Tensor([1.0, 2.001]), rtol: 0, atol: 0.01))
    }

    @Test("init(wrapping:) reads the memory without copying and deallocates once, after the last view")
    func wrappingDeallocatesOnce() throws {
        let counter = CallCounter()
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: 6 * MemoryLayout<Float>.stride, alignment: 16)
        let floats = pointer.bindMemory(to: Float.self, capacity: 6)
        for i in 0..<6 { floats[i] = Float(i) }
        // The pointer itself is not Sendable; its address is.
        let address = Int(bitPattern: pointer)

        var view: Tensor? = nil
        var detached: Tensor? = nil
        do {
            let tensor = try Tensor(wrapping: pointer, shape: [2, 3], dtype: .float32) {
                counter.increment()
                UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
            }
            #expect(tensor.shape == [2, 3])
            #expect(try tensor.toArray(Float.self) == [0, 1, 2, 3, 4, 5])
            // No copy: writes through the pointer show up in the tensor, and the other way round.
            floats[1] = 10
            #expect(try tensor.toArray(Float.self) == [0, 10, 2, 3, 4, 5])
            try tensor.narrowed(dimension: 1, start: 2, length: 1).fillInPlace(Float(-1))
            #expect(floats[2] == -1 && floats[5] == -1)

            view = try tensor.transposed()
            detached = try tensor.detach()
            let alias = try tensor.alias()
            let product = try tensor * 2
            #expect(try product.toArray(Float.self) == [0, 20, -2, 6, 8, -2])
            withExtendedLifetime(alias) {}
            withExtendedLifetime(tensor) {}
        }
        // The tensor, its alias and the product are gone, but two views remain.
        #expect(counter.value == 0)
        #expect(try view?.toArray(Float.self) == [0, 3, 10, 4, -1, -1])
        view = nil
        #expect(counter.value == 0)
        #expect(try detached?.sum().item() == 15)
        detached = nil
        #expect(counter.value == 1)
    }

    @Test("init(wrapping:) with explicit strides")
    func wrappingWithStrides() throws {
        let counter = CallCounter()
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: 6 * MemoryLayout<Double>.stride, alignment: 16)
        let doubles = pointer.bindMemory(to: Double.self, capacity: 6)
        for i in 0..<6 { doubles[i] = Double(i) }
        let address = Int(bitPattern: pointer)
        do {
            // Column-major [2, 3].
            let tensor = try Tensor(wrapping: pointer, shape: [2, 3], strides: [1, 2], dtype: .float64) {
                counter.increment()
                UnsafeMutableRawPointer(bitPattern: address)?.deallocate()
            }
            #expect(tensor.strides == [1, 2])
            #expect(!tensor.isContiguous)
            #expect(try tensor.toArray(Double.self) == [0, 2, 4, 1, 3, 5])
            withExtendedLifetime(tensor) {}
        }
        #expect(counter.value == 1)
    }

    @Test("init(wrapping:) with a negative size throws and never calls deallocate")
    func wrappingNegativeSize() throws {
        let counter = CallCounter()
        var storage: [Float] = [1, 2, 3, 4]
        _ = storage.withUnsafeMutableBytes { bytes in
            #expect(throws: TorchError.self) {
                _ = try Tensor(wrapping: bytes.baseAddress!, shape: [2, -2], dtype: .float32) {
                    counter.increment()
                }
            }
        }
        #expect(counter.value == 0)
    }

    @Test("init(wrapping:) with mismatched strides throws and never calls deallocate")
    func wrappingFailure() throws {
        let counter = CallCounter()
        var storage: [Float] = [1, 2, 3, 4]
        _ = storage.withUnsafeMutableBytes { bytes in
            #expect(throws: TorchError.self) {
                _ = try Tensor(wrapping: bytes.baseAddress!, shape: [2, 2], strides: [1], dtype: .float32) {
                    counter.increment()
                }
            }
        }
        #expect(counter.value == 0)
    }

    @Test("replaceData(with:) changes dtype and shape but keeps the object")
    func replaceData() throws {
        let parameter = try Tensor([1, 2] as [Float]).requiringGrad()
        let sameObject = parameter
        try parameter.replaceData(with: Tensor([5.0, 6.0, 7.0]))
        #expect(sameObject === parameter)
        #expect(parameter.dtype == .float64)
        #expect(parameter.shape == [3])
        #expect(try parameter.toArray(Double.self) == [5, 6, 7])
        #expect(parameter.requiresGrad)
        #expect(parameter.isLeaf)
        // The object still takes part in autograd with its new data.
        try (parameter * parameter).sum().backward()
        #expect(try parameter.grad?.toArray(Double.self) == [10, 12, 14])
    }
}

@Suite("Tensor metadata")
struct MetadataTests {
    @Test("shape, strides, rank, count, dtype, device")
    func metadata() throws {
        let t = try Tensor.zeros([2, 3, 4], dtype: .float64)
        #expect(t.shape == [2, 3, 4])
        #expect(t.strides == [12, 4, 1])
        #expect(t.rank == 3)
        #expect(t.count == 24)
        #expect(t.dtype == .float64)
        #expect(t.device == .cpu)
        #expect(t.isContiguous)
        #expect(t.size(0) == 2)
        #expect(t.size(-1) == 4)
        #expect(t.size(-3) == 2)
        #expect(!t.requiresGrad)
        #expect(t.isLeaf)

        let transposed = try t.transposed(0, 2)
        #expect(transposed.shape == [4, 3, 2])
        #expect(transposed.strides == [1, 4, 12])
        #expect(!transposed.isContiguous)
        let contiguous = try transposed.contiguous()
        #expect(contiguous.isContiguous)
        #expect(contiguous.strides == [6, 2, 1])
    }

    @Test("DType facts")
    func dtypes() {
        #expect(DType.allCases.count == 10)
        #expect(DType.float32.byteSize == 4)
        #expect(DType.bfloat16.byteSize == 2)
        #expect(DType.int64.byteSize == 8)
        #expect(DType.bool.byteSize == 1)
        #expect(DType.float16.isFloatingPoint)
        #expect(!DType.int32.isFloatingPoint)
        #expect(!DType.bool.isFloatingPoint)
        #expect(DType.bfloat16.description == "bfloat16")
        #expect(Int.dtype == .int64)
        #expect(UInt8.dtype == .uint8)
    }

    @Test("every dtype survives a round trip through the engine")
    func dtypeRoundTrip() throws {
        for dtype in DType.allCases {
            let t = try Tensor.ones([2], dtype: dtype)
            #expect(t.dtype == dtype)
            #expect(try t.toArray(Double.self) == [1, 1], "\(dtype)")
        }
    }

    @Test("Device parsing and description")
    func devices() {
        #expect(Device("cpu") == .cpu)
        #expect(Device("cuda") == .cuda(0))
        #expect(Device("cuda:3") == .cuda(3))
        #expect(Device("cuda:-1") == nil)
        #expect(Device("gpu") == nil)
        #expect(Device.cuda(2).description == "cuda:2")
        #expect(Device.cpu.description == "cpu")
    }
}

@Suite("Printing")
struct DescriptionTests {
    @Test("small tensors print exactly")
    func smallTensors() throws {
        let matrix = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        #expect(matrix.description == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])")
        #expect(try Tensor([1, 2, 3]).description == "tensor([1, 2, 3])")
        #expect(try Tensor([1.5, -2.25]).description == "tensor([ 1.5000, -2.2500], dtype=float64)")
        #expect(try Tensor(scalar: Float(3.5)).description == "tensor(3.5000)")
        #expect(try Tensor([true, false]).description == "tensor([ true, false])")
        let cube = try Tensor.arange(0, 8, dtype: .float32).reshaped([2, 2, 2])
        #expect(
            cube.description
                == "tensor([[[0.0000, 1.0000],\n         [2.0000, 3.0000]],\n\n        [[4.0000, 5.0000],\n         [6.0000, 7.0000]]])")
    }

    @Test("suffixes for dtype, requires_grad and scientific notation")
    func suffixes() throws {
        #expect(try Tensor([1.0, 2.0]).requiringGrad().description == "tensor([1.0000, 2.0000], dtype=float64, requires_grad=true)")
        #expect(try Tensor([Int32(5)]).description == "tensor([5], dtype=int32)")
        #expect(try Tensor([1e-5, 1] as [Float]).description == "tensor([1.0000e-05, 1.0000e+00])")
        #expect(try Tensor([Float.nan, .infinity, -.infinity]).description == "tensor([ nan,  inf, -inf])")
        // A non-contiguous view prints in logical order.
        let transposed = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed()
        #expect(transposed.description == "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])")
    }

    @Test("large tensors are summarised")
    func summary() throws {
        let large = try Tensor.arange(0, 10_000, dtype: .float32).reshaped([100, 100])
        let text = large.description
        #expect(text.contains("..."))
        #expect(text.hasSuffix(", shape=[100, 100])"))
        #expect(text.hasPrefix("tensor([[   0.0000,    1.0000,    2.0000, ...,   97.0000,   98.0000,   99.0000],\n"))
        #expect(text.contains("[9900.0000, 9901.0000, 9902.0000, ..., 9997.0000, 9998.0000, 9999.0000]]"))
        #expect(!text.contains("5000.0000"))
        // Seven printed rows: three, an ellipsis row, three.
        #expect(text.split(separator: "\n").count == 7)
        // Exactly at the threshold nothing is summarised.
        #expect(!(try Tensor.zeros([1000]).description.contains("...")))
        #expect(try Tensor.zeros([1001]).description.contains("..."))
    }
}

@Suite("Engine")
struct EngineTests {
    @Test("threadCount can be set and read back")
    func threadCount() {
        let original = Engine.threadCount
        defer { Engine.threadCount = original }
        #expect(original >= 1)
        Engine.threadCount = 2
        #expect(Engine.threadCount == 2)
        Engine.threadCount = 1
        #expect(Engine.threadCount == 1)
        // Values below one are raised to one.
        Engine.threadCount = 0
        #expect(Engine.threadCount == 1)
    }

    @Test("build configuration and version")
    func configuration() throws {
        let text = try Engine.buildConfiguration()
        #expect(text.contains("libtorch"))
        let version = Engine.version
        #expect(text.hasPrefix("libtorch \(version.major).\(version.minor)"))
        #expect(version.major >= 1)
    }

    @Test("without CUDA, CUDA reports nothing and synchronize is a no-op", .enabled(if: !Engine.isCUDAAvailable))
    func noCUDA() throws {
        #expect(Engine.cudaDeviceCount == 0)
        try Engine.synchronize()
        #expect(throws: TorchError.self) { try Tensor([1.0]).to(device: .cuda(0)) }
    }
}
