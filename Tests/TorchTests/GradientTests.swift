import Testing
import Torch

// Finite-difference checks (float64, tiny shapes) of the gradient of every differentiable operation.

/// Where a unary case draws its inputs.
enum InputDomain: Sendable {
    /// Uniform in [-2, 2).
    case symmetric
    /// Uniform in [0.5, 2).
    case positive
    /// Uniform in [0, 1).
    case unit
    /// Pairwise distinct and at least 0.04 away from zero (for kinks at 0 and for ties).
    case distinct

    func sample(_ shape: [Int], seed: UInt64) throws -> Tensor {
        switch self {
        case .symmetric: return try uniformInput(shape, seed: seed, low: -2, high: 2)
        case .positive: return try uniformInput(shape, seed: seed, low: 0.5, high: 2)
        case .unit: return try uniformInput(shape, seed: seed, low: 0, high: 1)
        case .distinct: return try distinctInput(shape, seed: seed)
        }
    }
}

struct UnaryCase: Sendable, CustomTestStringConvertible {
    let name: String
    let domain: InputDomain
    let apply: @Sendable (Tensor) throws -> Tensor

    init(_ name: String, _ domain: InputDomain = .symmetric, _ apply: @escaping @Sendable (Tensor) throws -> Tensor) {
        self.name = name
        self.domain = domain
        self.apply = apply
    }

    var testDescription: String { name }
}

let unaryCases: [UnaryCase] = [
    UnaryCase("negation") { try -$0 },
    UnaryCase("pow 2.5", .positive) { try $0.pow(2.5) },
    UnaryCase("pow 3 (Int)") { try $0.pow(3) },
    UnaryCase("pow -0.5", .positive) { try $0.pow(-0.5) },
    UnaryCase("exp") { try $0.exp() },
    UnaryCase("log", .positive) { try $0.log() },
    UnaryCase("log1p", .unit) { try $0.log1p() },
    UnaryCase("sqrt", .positive) { try $0.sqrt() },
    UnaryCase("rsqrt", .positive) { try $0.rsqrt() },
    UnaryCase("reciprocal", .positive) { try $0.reciprocal() },
    UnaryCase("sin") { try $0.sin() },
    UnaryCase("cos") { try $0.cos() },
    UnaryCase("abs", .distinct) { try $0.abs() },
    UnaryCase("relu", .distinct) { try $0.relu() },
    UnaryCase("sigmoid") { try $0.sigmoid() },
    UnaryCase("tanh") { try $0.tanh() },
    UnaryCase("silu") { try $0.silu() },
    UnaryCase("erf") { try $0.erf() },
    UnaryCase("gelu exact") { try $0.gelu() },
    UnaryCase("gelu tanh") { try $0.gelu(approximateWithTanh: true) },
    UnaryCase("softmax last") { try $0.softmax() },
    UnaryCase("softmax dim 0") { try $0.softmax(dimension: 0) },
    UnaryCase("logSoftmax last") { try $0.logSoftmax() },
    UnaryCase("logSoftmax dim 0") { try $0.logSoftmax(dimension: 0) },
    UnaryCase("clamped both", .distinct) { try $0.clamped(min: -0.1, max: 0.1) },
    UnaryCase("clamped min", .distinct) { try $0.clamped(min: 0.1) },
    UnaryCase("clamped max", .distinct) { try $0.clamped(max: -0.1) },
    UnaryCase("plus scalar") { try $0 + 2.5 },
    UnaryCase("minus scalar") { try $0 - 1.5 },
    UnaryCase("times scalar") { try $0 * 3.0 },
    UnaryCase("times Int") { try $0 * 3 },
    UnaryCase("divided by scalar") { try $0 / 4.0 },
    UnaryCase("scalar plus") { try 2.5 + $0 },
    UnaryCase("scalar minus") { try 2.0 - $0 },
    UnaryCase("scalar times") { try 3.0 * $0 },
    UnaryCase("scalar divided by", .positive) { try 2.0 / $0 },
    UnaryCase("sum") { try $0.sum() },
    UnaryCase("sum dim 1") { try $0.sum(dimension: 1) },
    UnaryCase("sum dims keep") { try $0.sum(dimensions: [0, 1], keepDimensions: true) },
    UnaryCase("mean") { try $0.mean() },
    UnaryCase("mean dim 0 keep") { try $0.mean(dimension: 0, keepDimensions: true) },
    UnaryCase("variance unbiased") { try $0.variance(dimensions: [1]) },
    UnaryCase("variance biased keep") { try $0.variance(dimensions: [0], unbiased: false, keepDimensions: true) },
    UnaryCase("max(dimension:) values", .distinct) { try $0.max(dimension: 1).values },
    UnaryCase("min(dimension:) values", .distinct) { try $0.min(dimension: 0, keepDimensions: true).values },
    UnaryCase("max all", .distinct) { try $0.max() },
    UnaryCase("min all", .distinct) { try $0.min() },
    UnaryCase("floor (zero gradient)", .distinct) { try $0.floor() + $0 },
    UnaryCase("sign (zero gradient)", .distinct) { try $0.sign() * 2.0 + $0 },
    UnaryCase("topK largest", .distinct) { try $0.topK(2).values },
    UnaryCase("topK smallest dim 0", .distinct) { try $0.topK(1, dimension: 0, largest: false).values },
    UnaryCase("logSumExp") { try $0.logSumExp(dimensions: [1]) },
    UnaryCase("logSumExp all keep") { try $0.logSumExp(dimensions: [0, 1], keepDimensions: true) },
    UnaryCase("norm 2") { try $0.norm() },
    UnaryCase("norm 2 dim 1") { try $0.norm(2, dimensions: [1]) },
    UnaryCase("norm 1", .distinct) { try $0.norm(1, dimensions: [0], keepDimensions: true) },
    UnaryCase("norm 3") { try $0.norm(3, dimensions: [1]) },
    UnaryCase("normalize") { try Functional.normalize($0) },
    UnaryCase("normalize dim 0 p 1", .distinct) { try Functional.normalize($0, p: 1, dimension: 0) },
    UnaryCase("lowerTriangle") { try $0.lowerTriangle() },
    UnaryCase("lowerTriangle diagonal -1") { try $0.lowerTriangle(diagonal: -1) },
    UnaryCase("upperTriangle diagonal 1") { try $0.upperTriangle(diagonal: 1) },
    UnaryCase("clone") { try $0.clone() * $0 },
    UnaryCase("contiguous of transpose") { try $0.transposed().contiguous() },
    UnaryCase("alias") { try $0.alias().exp() },
]

@Suite("Gradients")
struct GradientTests {
    // MARK: - Elementwise, scalar forms and reductions of a [2, 3] input

    @Test("unary operation", arguments: unaryCases)
    func unary(_ operation: UnaryCase) throws {
        let x = try operation.domain.sample([2, 3], seed: 11)
        try checkGradients(x, operation.apply)
    }

    // MARK: - Binary arithmetic with broadcasting

    @Test("tensor + tensor with broadcasting")
    func addition() throws {
        try checkGradients([uniformInput([2, 3], seed: 1), uniformInput([3], seed: 2)]) { try $0[0] + $0[1] }
        try checkGradients([uniformInput([2, 1], seed: 3), uniformInput([1, 3], seed: 4)]) { try $0[0] + $0[1] }
    }

    @Test("tensor - tensor with broadcasting")
    func subtraction() throws {
        try checkGradients([uniformInput([2, 3], seed: 5), uniformInput([2, 1], seed: 6)]) { try $0[0] - $0[1] }
        try checkGradients([uniformInput([3], seed: 7), uniformInput([2, 3], seed: 8)]) { try $0[0] - $0[1] }
    }

    @Test("tensor * tensor with broadcasting")
    func multiplication() throws {
        try checkGradients([uniformInput([2, 3], seed: 9), uniformInput([3], seed: 10)]) { try $0[0] * $0[1] }
        try checkGradients([uniformInput([2, 1, 3], seed: 11), uniformInput([4, 1], seed: 12)]) { try $0[0] * $0[1] }
        // The same tensor on both sides.
        try checkGradients(uniformInput([2, 3], seed: 13)) { try $0 * $0 }
    }

    @Test("tensor / tensor with broadcasting")
    func division() throws {
        try checkGradients([uniformInput([2, 3], seed: 14), uniformInput([2, 1], seed: 15, low: 0.5, high: 2)]) {
            try $0[0] / $0[1]
        }
        try checkGradients([uniformInput([3], seed: 16), uniformInput([2, 3], seed: 17, low: -2, high: -0.5)]) {
            try $0[0] / $0[1]
        }
    }

    @Test("pow with a tensor exponent")
    func powTensorExponent() throws {
        let base = try uniformInput([2, 3], seed: 18, low: 0.5, high: 2)
        let exponent = try uniformInput([2, 3], seed: 19, low: -2, high: 2)
        try checkGradients([base, exponent]) { try $0[0].pow($0[1]) }
        // Broadcast exponent.
        try checkGradients([base, uniformInput([3], seed: 20, low: 0.5, high: 3)]) { try $0[0].pow($0[1]) }
    }

    @Test("maximum and minimum of distinct values")
    func maximumMinimum() throws {
        let a = try distinctInput([2, 3], seed: 21)
        // Shifted by half the spacing, so no element ties with its partner.
        let b = try distinctInput([2, 3], seed: 22) + 0.05
        try checkGradients([a, b]) { try $0[0].maximum($0[1]) }
        try checkGradients([a, b]) { try $0[0].minimum($0[1]) }
        try checkGradients([a, b.narrowed(dimension: 0, start: 0, length: 1)]) { try $0[0].maximum($0[1]) }
    }

    // MARK: - Matrix products

    @Test("matmul, mm and bmm")
    func matrixProducts() throws {
        try checkGradients([uniformInput([2, 3], seed: 23), uniformInput([3, 4], seed: 24)]) { try $0[0].matmul($0[1]) }
        // Batched with broadcasting, and matrix–vector.
        try checkGradients([uniformInput([2, 2, 3], seed: 25), uniformInput([3, 2], seed: 26)]) {
            try $0[0].matmul($0[1])
        }
        try checkGradients([uniformInput([2, 3], seed: 27), uniformInput([3], seed: 28)]) { try $0[0].matmul($0[1]) }
        try checkGradients([uniformInput([2, 3], seed: 29), uniformInput([3, 2], seed: 30)]) { try $0[0].mm($0[1]) }
        try checkGradients([uniformInput([2, 2, 3], seed: 31), uniformInput([2, 3, 4], seed: 32)]) {
            try $0[0].bmm($0[1])
        }
    }

    // MARK: - Reductions over a [2, 3, 4] input

    @Test("reductions over several dimensions of a rank-3 tensor")
    func reductionsRank3() throws {
        let x = try uniformInput([2, 3, 4], seed: 33)
        try checkGradients(x) { try $0.sum(dimensions: [0, 2]) }
        try checkGradients(x) { try $0.mean(dimensions: [0, 2], keepDimensions: true) }
        try checkGradients(x) { try $0.mean(dimension: -1) }
        try checkGradients(x) { try $0.variance(dimensions: [1, 2]) }
        try checkGradients(x) { try $0.logSumExp(dimensions: [2]) }
        try checkGradients(x) { try $0.norm(2, dimensions: [0, 2]) }
        try checkGradients(x) { try $0.softmax(dimension: 1) }
        try checkGradients(x) { try $0.logSoftmax(dimension: 1) }
        let distinct = try distinctInput([2, 3, 4], seed: 34)
        try checkGradients(distinct) { try $0.max(dimension: 2, keepDimensions: true).values }
        try checkGradients(distinct) { try $0.topK(3, dimension: 1, sorted: true).values }
        try checkGradients(distinct) { try $0.topK(2, dimension: 2, largest: false).values }
    }

    // MARK: - Views and reshapes

    @Test("reshaped, view, permuted and transposed")
    func reshapes() throws {
        let x = try uniformInput([2, 3, 4], seed: 35)
        try checkGradients(x) { try $0.reshaped([4, -1]) }
        try checkGradients(x) { try $0.reshaped(6, 4) }
        try checkGradients(x) { try $0.view([2, 12]) }
        try checkGradients(x) { try $0.permuted([2, 0, 1]) }
        try checkGradients(x) { try $0.permuted(1, 2, 0).reshaped([3, 8]) }
        try checkGradients(x) { try $0.transposed(0, 2) }
        try checkGradients(x) { try $0.transposed() }
    }

    @Test("expanded and repeated")
    func expandRepeat() throws {
        try checkGradients(uniformInput([2, 1, 3], seed: 36)) { try $0.expanded(to: [2, 4, 3]) }
        try checkGradients(uniformInput([3], seed: 37)) { try $0.expanded(to: [2, -1]) }
        try checkGradients(uniformInput([2, 3], seed: 38)) { try $0.repeated([2, 1]) }
        try checkGradients(uniformInput([2, 3], seed: 39)) { try $0.repeated([2, 2, 3]) }
    }

    @Test("squeezed, unsqueezed and flattened")
    func squeezeFlatten() throws {
        let x = try uniformInput([2, 1, 3, 1], seed: 40)
        try checkGradients(x) { try $0.squeezed() }
        try checkGradients(x) { try $0.squeezed(1) }
        try checkGradients(x) { try $0.squeezed(-1) }
        try checkGradients(uniformInput([2, 3], seed: 41)) { try $0.unsqueezed(1) }
        try checkGradients(uniformInput([2, 3], seed: 42)) { try $0.unsqueezed(-1) }
        let y = try uniformInput([2, 3, 2, 2], seed: 43)
        try checkGradients(y) { try $0.flattened() }
        try checkGradients(y) { try $0.flattened(from: 1) }
        try checkGradients(y) { try $0.flattened(from: 1, through: 2) }
    }

    // MARK: - Joins and splits

    @Test("cat and stack")
    func catStack() throws {
        let a = try uniformInput([2, 3], seed: 44)
        let b = try uniformInput([1, 3], seed: 45)
        let c = try uniformInput([2, 2], seed: 46)
        try checkGradients([a, b]) { try Tensor.cat($0) }
        try checkGradients([a, c]) { try Tensor.cat($0, dimension: 1) }
        try checkGradients([a, a.exp(), a.sin()]) { try Tensor.stack($0) }
        try checkGradients([a, a.cos()]) { try Tensor.stack($0, dimension: 2) }
        try checkGradients([a, a.cos()]) { try Tensor.stack($0, dimension: -2) }
    }

    @Test("split and chunked")
    func splitChunk() throws {
        let x = try uniformInput([5, 2], seed: 47)
        try checkGradients(x) { input in
            let pieces = try input.split(sizes: [2, 3])
            return try Tensor.cat([pieces[1].exp(), pieces[0] * 2])
        }
        try checkGradients(x) { input in
            let pieces = try input.split(sizes: [1, 1], dimension: 1)
            return try pieces[0] * pieces[1]
        }
        try checkGradients(x) { input in
            let pieces = try input.chunked(3)  // sizes 2, 2, 1
            return try Tensor.cat([pieces[2].sin(), pieces[0] * pieces[1]])
        }
        // Only part of the input used: the rest gets zero gradient.
        try checkGradients(x) { try $0.chunked(2, dimension: 0)[0].exp() }
    }

    // MARK: - Indexing

    @Test("narrowed, sliced, selected and subscripts")
    func slicing() throws {
        let x = try uniformInput([4, 3], seed: 48)
        try checkGradients(x) { try $0.narrowed(dimension: 0, start: 1, length: 2) }
        try checkGradients(x) { try $0.narrowed(dimension: 1, start: 2, length: 1) }
        try checkGradients(x) { try $0.sliced(dimension: 0, start: 0, end: 4, step: 2) }
        try checkGradients(x) { try $0.sliced(dimension: 1, start: 1, end: 3) }
        try checkGradients(x) { try $0.selected(dimension: 1, index: 2) }
        try checkGradients(x) { try $0.selected(dimension: 0, index: -1) }
        try checkGradients(x) { try $0[1] }
        try checkGradients(x) { try $0[1..<3] }
    }

    @Test("indexSelect and gather with repeated indices")
    func indexing() throws {
        let x = try uniformInput([4, 3], seed: 49)
        let rows = try Tensor([2, 0, 2, 3])
        try checkGradients(x) { try $0.indexSelect(dimension: 0, index: rows) }
        try checkGradients(x) { try $0.indexSelect(dimension: 1, index: Tensor([1, 1])) }
        let index = try Tensor([0, 0, 2, 1, 1, 1, 2, 0, 0, 2, 2, 2], shape: [4, 3])
        try checkGradients(x) { try $0.gather(dimension: 1, index: index) }
        let rowIndex = try Tensor([3, 0, 0, 1, 1, 2], shape: [2, 3])
        try checkGradients(x) { try $0.gather(dimension: 0, index: rowIndex) }
    }

    @Test("maskedFill and where")
    func masking() throws {
        let x = try uniformInput([2, 3], seed: 50)
        let mask = try Tensor([true, false, false, true, true, false], shape: [2, 3])
        try checkGradients(x) { try $0.maskedFill(mask, with: 0.5) }
        // A broadcast mask.
        try checkGradients(x) { try $0.maskedFill(Tensor([false, true, false]), with: -1) }
        let y = try uniformInput([2, 3], seed: 51)
        try checkGradients([x, y]) { try Tensor.where(mask, $0[0], $0[1]) }
        try checkGradients([x, uniformInput([3], seed: 52)]) { try Tensor.where(mask, $0[0].exp(), $0[1]) }
    }

    // MARK: - Layers

    @Test("linear with and without bias")
    func linear() throws {
        let input = try uniformInput([2, 3], seed: 53)
        let weight = try uniformInput([4, 3], seed: 54)
        let bias = try uniformInput([4], seed: 55)
        try checkGradients([input, weight, bias]) { try Functional.linear($0[0], weight: $0[1], bias: $0[2]) }
        try checkGradients([input, weight]) { try Functional.linear($0[0], weight: $0[1]) }
        // Extra leading dimensions.
        try checkGradients([uniformInput([2, 2, 3], seed: 56), weight, bias]) {
            try Functional.linear($0[0], weight: $0[1], bias: $0[2])
        }
    }

    @Test("conv2d with stride, padding, dilation and groups")
    func conv2d() throws {
        let input = try uniformInput([1, 2, 5, 5], seed: 57)
        let weight = try uniformInput([3, 2, 3, 3], seed: 58)
        let bias = try uniformInput([3], seed: 59)
        try checkGradients([input, weight, bias]) { try Functional.conv2d($0[0], weight: $0[1], bias: $0[2]) }
        try checkGradients([input, weight, bias]) {
            try Functional.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 0))
        }
        try checkGradients([input, weight]) {
            try Functional.conv2d($0[0], weight: $0[1], padding: (2, 2), dilation: (2, 2))
        }
        let grouped = try uniformInput([2, 4, 4, 4], seed: 60)
        let groupedWeight = try uniformInput([4, 2, 2, 2], seed: 61)
        try checkGradients([grouped, groupedWeight, uniformInput([4], seed: 62)]) {
            try Functional.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1), groups: 2)
        }
    }

    @Test("maxPool2d and avgPool2d")
    func pooling() throws {
        let distinct = try distinctInput([1, 2, 4, 4], seed: 63)
        try checkGradients(distinct) { try Functional.maxPool2d($0, kernel: (2, 2)) }
        try checkGradients(distinct) { try Functional.maxPool2d($0, kernel: (3, 3), stride: (1, 1), padding: (1, 1)) }
        try checkGradients(distinct) { try Functional.maxPool2d($0, kernel: (2, 3), stride: (2, 1)) }
        let x = try uniformInput([2, 2, 5, 5], seed: 64)
        try checkGradients(x) { try Functional.avgPool2d($0, kernel: (2, 2)) }
        try checkGradients(x) { try Functional.avgPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try checkGradients(x) {
            try Functional.avgPool2d($0, kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)
        }
    }

    @Test("adaptiveAvgPool2d and adaptiveMaxPool2d")
    func adaptivePooling() throws {
        let x = try uniformInput([1, 2, 5, 5], seed: 65)
        try checkGradients(x) { try Functional.adaptiveAvgPool2d($0, outputSize: (3, 2)) }
        try checkGradients(x) { try Functional.adaptiveAvgPool2d($0, outputSize: (1, 1)) }
        try checkGradients(x) { try Functional.adaptiveAvgPool2d($0, outputSize: (7, 6)) }
        let distinct = try distinctInput([1, 2, 5, 5], seed: 66)
        try checkGradients(distinct) { try Functional.adaptiveMaxPool2d($0, outputSize: (2, 3)) }
        try checkGradients(distinct) { try Functional.adaptiveMaxPool2d($0, outputSize: (1, 1)) }
    }

    // MARK: - Resampling

    /// A sampling grid [N, Hout, Wout, 2] whose points lie between pixel centres of a `height`×`width` input
    /// (fractional pixel offsets in [0.15, 0.45] ∪ [0.55, 0.85]), so bilinear sampling is smooth at every point
    /// and nearest sampling is not at a rounding boundary. `margin` pixels outside the input are allowed.
    static func samplingGrid(
        batch: Int, outputHeight: Int, outputWidth: Int, height: Int, width: Int, alignCorners: Bool, margin: Int = 0,
        seed: UInt64
    ) throws -> Tensor {
        let count = batch * outputHeight * outputWidth * 2
        let generator = try Generator(seed: seed)
        let cells = try Tensor.rand([count], dtype: .float64, generator: generator).toArray(Double.self)
        let fractions = try Tensor.rand([count], dtype: .float64, generator: generator).toArray(Double.self)
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let size = i % 2 == 0 ? width : height
            // Integer cell in [-margin, size - 1 + margin - 1], fraction away from 0, 0.5 and 1.
            let span = size - 1 + 2 * margin
            let cell = Double(Int(cells[i] * Double(span)) - margin)
            let f = fractions[i] * 0.6
            let fraction = f < 0.3 ? 0.15 + f : 0.25 + f
            let pixel = cell + fraction
            values[i] = alignCorners
                ? 2 * pixel / Double(size - 1) - 1 : (2 * pixel + 1) / Double(size) - 1
        }
        return try Tensor(values, shape: [batch, outputHeight, outputWidth, 2])
    }

    @Test("gridSample bilinear: gradient with respect to input and grid")
    func gridSampleBilinear() throws {
        let input = try uniformInput([2, 2, 4, 5], seed: 67)
        let grid = try Self.samplingGrid(
            batch: 2, outputHeight: 3, outputWidth: 2, height: 4, width: 5, alignCorners: false, seed: 68)
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1]) }
        let alignedGrid = try Self.samplingGrid(
            batch: 2, outputHeight: 2, outputWidth: 3, height: 4, width: 5, alignCorners: true, seed: 69)
        try checkGradients([input, alignedGrid]) { try Functional.gridSample($0[0], grid: $0[1], alignCorners: true) }
    }

    @Test("gridSample with points outside the input and every padding mode")
    func gridSamplePadding() throws {
        let input = try uniformInput([1, 2, 4, 5], seed: 70)
        let grid = try Self.samplingGrid(
            batch: 1, outputHeight: 3, outputWidth: 3, height: 4, width: 5, alignCorners: false, margin: 1, seed: 71)
        // Some points must really lie outside [-1, 1].
        #expect(try grid.abs().max().item() > 1)
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1], padding: .zeros) }
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1], padding: .border) }
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1], padding: .reflection) }
    }

    @Test("gridSample nearest and bicubic")
    func gridSampleOtherModes() throws {
        let input = try uniformInput([1, 2, 4, 5], seed: 72)
        let grid = try Self.samplingGrid(
            batch: 1, outputHeight: 2, outputWidth: 3, height: 4, width: 5, alignCorners: false, seed: 73)
        // Nearest is piecewise constant in the grid: its gradient there is zero, which finite differences agree with.
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1], mode: .nearest) }
        try checkGradients([input, grid]) { try Functional.gridSample($0[0], grid: $0[1], mode: .bicubic) }
    }

    @Test(
        "interpolate",
        arguments: [Interpolation.bilinear, .bicubic], [false, true])
    func interpolate(mode: Interpolation, antialias: Bool) throws {
        let input = try uniformInput([1, 2, 5, 6], seed: 74)
        // Shrinking, growing, and both at once.
        try checkGradients(input) { try Functional.interpolate($0, size: (3, 4), mode: mode, antialias: antialias) }
        try checkGradients(input) { try Functional.interpolate($0, size: (7, 9), mode: mode, antialias: antialias) }
        try checkGradients(input) { try Functional.interpolate($0, size: (2, 8), mode: mode, antialias: antialias) }
        try checkGradients(input) {
            try Functional.interpolate($0, size: (3, 8), mode: mode, alignCorners: true, antialias: antialias)
        }
    }

    @Test("interpolate nearest")
    func interpolateNearest() throws {
        let input = try uniformInput([1, 2, 4, 5], seed: 75)
        try checkGradients(input) { try Functional.interpolate($0, size: (2, 3), mode: .nearest) }
        try checkGradients(input) { try Functional.interpolate($0, size: (6, 8), mode: .nearest) }
    }

    // MARK: - Normalisation

    @Test("layerNorm with weight and bias")
    func layerNorm() throws {
        let x = try uniformInput([2, 3, 4], seed: 76)
        let weight = try uniformInput([4], seed: 77, low: 0.5, high: 1.5)
        let bias = try uniformInput([4], seed: 78)
        try checkGradients([x, weight, bias]) {
            try Functional.layerNorm($0[0], normalizedShape: [4], weight: $0[1], bias: $0[2])
        }
        try checkGradients(x) { try Functional.layerNorm($0, normalizedShape: [3, 4]) }
        try checkGradients([x, uniformInput([3, 4], seed: 79), uniformInput([3, 4], seed: 80)]) {
            try Functional.layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1], bias: $0[2], eps: 1e-3)
        }
    }

    @Test("batchNorm in training mode: gradient with respect to input, weight and bias")
    func batchNormTraining() throws {
        let x = try uniformInput([2, 3, 4, 4], seed: 81)
        let weight = try uniformInput([3], seed: 82, low: 0.5, high: 1.5)
        let bias = try uniformInput([3], seed: 83)
        try checkGradients([x, weight, bias]) {
            try Functional.batchNorm(
                $0[0], weight: $0[1], bias: $0[2], runningMean: nil, runningVariance: nil, training: true)
        }
        // Running statistics are updated but do not change training-mode outputs or gradients.
        let runningMean = try Tensor.zeros([3], dtype: .float64)
        let runningVariance = try Tensor.ones([3], dtype: .float64)
        try checkGradients([x.narrowed(dimension: 2, start: 0, length: 2), weight, bias]) {
            try Functional.batchNorm(
                $0[0], weight: $0[1], bias: $0[2], runningMean: runningMean, runningVariance: runningVariance,
                training: true)
        }
        // [N, C] input.
        try checkGradients([uniformInput([4, 3], seed: 84), weight, bias]) {
            try Functional.batchNorm(
                $0[0], weight: $0[1], bias: $0[2], runningMean: nil, runningVariance: nil, training: true, eps: 1e-3)
        }
    }

    @Test("batchNorm in evaluation mode")
    func batchNormEvaluation() throws {
        let x = try uniformInput([2, 3, 2, 2], seed: 85)
        let runningMean = try uniformInput([3], seed: 86)
        let runningVariance = try uniformInput([3], seed: 87, low: 0.5, high: 2)
        try checkGradients([x, uniformInput([3], seed: 88), uniformInput([3], seed: 89)]) {
            try Functional.batchNorm(
                $0[0], weight: $0[1], bias: $0[2], runningMean: runningMean, runningVariance: runningVariance,
                training: false)
        }
    }

    // MARK: - Embedding and losses

    @Test("embedding: gradient with respect to the weight, repeated indices accumulate")
    func embedding() throws {
        let weight = try uniformInput([5, 3], seed: 90)
        let indices = try Tensor([0, 2, 2, 4, 1, 0], shape: [2, 3])
        try checkGradients(weight) { try Functional.embedding(indices, weight: $0) }
        try checkGradients(weight) { try Functional.embedding(Tensor([3, 3, 3]), weight: $0).exp() }
    }

    @Test("crossEntropy with hard int64 targets")
    func crossEntropyHard() throws {
        let logits = try uniformInput([3, 4], seed: 91, low: -2, high: 2)
        let targets = try Tensor([2, 0, 3])
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: targets) }
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: targets, reduction: .sum) }
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: targets, reduction: .none) }
        // An ignored row contributes neither loss nor gradient.
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: Tensor([2, -100, 3])) }
        // Higher-rank [N, C, d] logits with [N, d] targets.
        try checkGradients(uniformInput([2, 3, 2], seed: 92)) {
            try Functional.crossEntropy(logits: $0, targets: Tensor([0, 2, 1, 1], shape: [2, 2]))
        }
    }

    @Test("crossEntropy with soft probability targets")
    func crossEntropySoft() throws {
        let logits = try uniformInput([3, 4], seed: 93, low: -2, high: 2)
        let probabilities = try uniformInput([3, 4], seed: 94).softmax()
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: probabilities) }
        // The loss is linear in the targets; their gradient is −log_softmax(logits) / N.
        try checkGradients([logits, probabilities]) { try Functional.crossEntropy(logits: $0[0], targets: $0[1]) }
        try checkGradients(logits) {
            try Functional.crossEntropy(logits: $0, targets: probabilities, reduction: .sum, labelSmoothing: 0.1)
        }
    }

    @Test("crossEntropy with label smoothing 0.1")
    func crossEntropySmoothing() throws {
        let logits = try uniformInput([3, 4], seed: 95, low: -2, high: 2)
        let targets = try Tensor([1, 3, 0])
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: targets, labelSmoothing: 0.1) }
        try checkGradients(logits) {
            try Functional.crossEntropy(logits: $0, targets: targets, reduction: .none, labelSmoothing: 0.1)
        }
    }

    @Test("crossEntropy with class weights")
    func crossEntropyWeights() throws {
        let logits = try uniformInput([3, 4], seed: 96, low: -2, high: 2)
        let targets = try Tensor([1, 3, 1])
        let weight = try Tensor([0.5, 2.0, 1.0, 3.0])
        try checkGradients(logits) { try Functional.crossEntropy(logits: $0, targets: targets, weight: weight) }
        try checkGradients(logits) {
            try Functional.crossEntropy(logits: $0, targets: targets, weight: weight, labelSmoothing: 0.1)
        }
        try checkGradients(logits) {
            try Functional.crossEntropy(logits: $0, targets: targets, weight: weight, reduction: .none)
        }
    }

    @Test("mseLoss with every reduction")
    func mseLoss() throws {
        let input = try uniformInput([2, 3], seed: 97)
        let target = try uniformInput([2, 3], seed: 98)
        try checkGradients([input, target]) { try Functional.mseLoss($0[0], $0[1]) }
        try checkGradients([input, target]) { try Functional.mseLoss($0[0], $0[1], reduction: .sum) }
        try checkGradients([input, target]) { try Functional.mseLoss($0[0], $0[1], reduction: .none) }
    }

    // MARK: - Attention

    @Test("scaledDotProductAttention without a mask")
    func attention() throws {
        let q = try uniformInput([2, 3, 4], seed: 99)
        let k = try uniformInput([2, 5, 4], seed: 100)
        let v = try uniformInput([2, 5, 2], seed: 101)
        try checkGradients([q, k, v]) { try Functional.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) }
        // Extra head dimension.
        let q4 = try uniformInput([1, 2, 3, 2], seed: 102)
        let k4 = try uniformInput([1, 2, 2, 2], seed: 103)
        let v4 = try uniformInput([1, 2, 2, 3], seed: 104)
        try checkGradients([q4, k4, v4]) {
            try Functional.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2])
        }
    }

    @Test("scaledDotProductAttention with boolean and additive masks")
    func attentionMasked() throws {
        let q = try uniformInput([2, 3, 4], seed: 105)
        let k = try uniformInput([2, 5, 4], seed: 106)
        let v = try uniformInput([2, 5, 2], seed: 107)
        // Every query may attend to at least one key.
        let mask = try Tensor(
            [true, false, true, false, false,
             false, true, true, true, false,
             true, true, true, true, true], shape: [3, 5])
        try checkGradients([q, k, v]) {
            try Functional.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: mask)
        }
        let additive = try uniformInput([2, 1, 5], seed: 108)
        try checkGradients([q, k, v]) {
            try Functional.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: additive)
        }
    }

    @Test("scaledDotProductAttention causal")
    func attentionCausal() throws {
        let q = try uniformInput([2, 3, 4], seed: 109)
        let k = try uniformInput([2, 3, 4], seed: 110)
        let v = try uniformInput([2, 3, 2], seed: 111)
        try checkGradients([q, k, v]) {
            try Functional.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: true)
        }
    }

    // MARK: - Compositions

    @Test("a small network: linear → gelu → layerNorm → linear → crossEntropy")
    func composition() throws {
        let x = try uniformInput([3, 4], seed: 112)
        let w1 = try uniformInput([5, 4], seed: 113)
        let b1 = try uniformInput([5], seed: 114)
        let w2 = try uniformInput([3, 5], seed: 115)
        let targets = try Tensor([0, 2, 1])
        try checkGradients([x, w1, b1, w2]) { inputs in
            let hidden = try Functional.linear(inputs[0], weight: inputs[1], bias: inputs[2]).gelu()
            let normalised = try Functional.layerNorm(hidden, normalizedShape: [5])
            let logits = try Functional.linear(normalised, weight: inputs[3])
            return try Functional.crossEntropy(logits: logits, targets: targets)
        }
    }
}
