import Foundation
import Testing
import Torch

@Suite("Functional values")
struct FunctionalTests {
    // MARK: - Losses

    /// logits [[1, 2, 3], [1, 0, -1]]; both rows have log Σ exp = 3.40760596… resp. 1.40760596….
    func logits() throws -> Tensor { try Tensor([1.0, 2, 3, 1, 0, -1], shape: [2, 3]) }

    @Test("crossEntropy of a 2×3 example with hard targets")
    func crossEntropyHard() throws {
        let targets = try Tensor([2, 1])
        // Row losses: lse − logit[target] = 0.40760596…, 1.40760596….
        let perRow = [0.40760596444438013, 1.4076059644443804]
        try expectTensor(Functional.crossEntropy(logits: logits(), targets: targets), shape: [], [0.9076059644443802])
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: targets, reduction: .sum), shape: [], [perRow[0] + perRow[1]])
        try expectTensor(Functional.crossEntropy(logits: logits(), targets: targets, reduction: .none), shape: [2], perRow)
        // float32 logits.
        let single = try Functional.crossEntropy(logits: logits().to(.float32), targets: targets)
        #expect(single.dtype == .float32)
        expectClose(try single.toArray(Float.self), [0.90760596], absolute: 1e-6)
    }

    @Test("crossEntropy with label smoothing 0.1")
    func crossEntropySmoothing() throws {
        // (1 − ε)·nll + ε·mean_c(−log p_c), with mean_c(−log p_c) = 1.40760596… for both rows.
        let perRow = [0.9 * 0.40760596444438013 + 0.1 * 1.4076059644443804, 1.4076059644443804]
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, 1]), reduction: .none, labelSmoothing: 0.1),
            shape: [2], perRow)
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, 1]), labelSmoothing: 0.1),
            shape: [], [0.9576059644443802])
        // Smoothing 1 ignores the targets entirely.
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([0, 0]), labelSmoothing: 1), shape: [],
            [1.4076059644443804])
    }

    @Test("crossEntropy with class weights and an ignored index")
    func crossEntropyWeights() throws {
        let weight = try Tensor([0.5, 2.0, 3.0])
        // Weighted mean: Σ w[y]·loss / Σ w[y] = (3·0.4076… + 2·1.4076…) / 5.
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, 1]), weight: weight), shape: [],
            [0.8076059644443803])
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, 1]), weight: weight, reduction: .none),
            shape: [2], [3 * 0.40760596444438013, 2 * 1.4076059644443804])
        // The ignored row neither adds loss nor counts in the mean.
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, -100])), shape: [], [0.40760596444438013])
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: Tensor([2, 0]), ignoreIndex: 0), shape: [],
            [0.40760596444438013])
    }

    @Test("crossEntropy with soft probability targets")
    func crossEntropySoft() throws {
        let probabilities = try Tensor([0.0, 0, 1, 0.5, 0.5, 0], shape: [2, 3])
        // Row 1 is one-hot; row 2 averages the losses of classes 0 and 1: 0.5·0.4076… + 0.5·1.4076….
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: probabilities, reduction: .none), shape: [2],
            [0.40760596444438013, 0.9076059644443804])
        try expectTensor(
            Functional.crossEntropy(logits: logits(), targets: probabilities), shape: [], [0.6576059644443803])
        // One-hot probabilities give the same loss as the class indices.
        let oneHot = try Tensor([2, 1]).oneHot(classes: 3).to(.float64)
        let soft = try Functional.crossEntropy(logits: logits(), targets: oneHot, labelSmoothing: 0.1).item()
        let hard = try Functional.crossEntropy(logits: logits(), targets: Tensor([2, 1]), labelSmoothing: 0.1).item()
        #expect(Swift.abs(soft - hard) < 1e-12)
    }

    @Test("mseLoss with every reduction")
    func mseLoss() throws {
        let input = try Tensor([1.0, 2.0, 3.0])
        let target = try Tensor([0.0, 2.0, 5.0])
        try expectTensor(Functional.mseLoss(input, target), shape: [], [5.0 / 3])
        try expectTensor(Functional.mseLoss(input, target, reduction: .sum), shape: [], [5])
        try expectTensor(Functional.mseLoss(input, target, reduction: .none), shape: [3], [1, 0, 4])
    }

    // MARK: - Layers

    @Test("linear values")
    func linear() throws {
        let x = try Tensor([1.0, 2.0, 3.0, 4.0], shape: [2, 2])
        let weight = try Tensor([1.0, 0, 0, 1, 1, 1], shape: [3, 2])
        let bias = try Tensor([0.5, 0, -1])
        try expectTensor(Functional.linear(x, weight: weight, bias: bias), shape: [2, 3], [1.5, 2, 2, 3.5, 4, 6])
        try expectTensor(Functional.linear(x, weight: weight), shape: [2, 3], [1, 2, 3, 3, 4, 7])
    }

    @Test("conv2d values with stride, padding and groups")
    func conv2d() throws {
        let input = try Tensor.arange(0, 9, dtype: .float64).reshaped([1, 1, 3, 3])
        let ones = try Tensor.ones([1, 1, 2, 2], dtype: .float64)
        try expectTensor(Functional.conv2d(input, weight: ones), shape: [1, 1, 2, 2], [8, 12, 20, 24])
        try expectTensor(
            Functional.conv2d(input, weight: ones, bias: Tensor([1.0])), shape: [1, 1, 2, 2], [9, 13, 21, 25])
        try expectTensor(
            Functional.conv2d(input, weight: ones, stride: (2, 2), padding: (1, 1)), shape: [1, 1, 2, 2], [0, 3, 9, 24])
        // Two groups: each output channel sees only its own input channel.
        let twoChannels = try Tensor.cat([input, input * 10.0], dimension: 1)
        let weights = try Tensor([1.0, -1.0], shape: [2, 1, 1, 1])
        let grouped = try Functional.conv2d(twoChannels, weight: weights, groups: 2)
        #expect(grouped.shape == [1, 2, 3, 3])
        #expect(try grouped[0][1][2][2].item() == -80)
        #expect(try grouped[0][0][1][1].item() == 4)
    }

    @Test("pooling values")
    func pooling() throws {
        let input = try Tensor.arange(0, 16, dtype: .float64).reshaped([1, 1, 4, 4])
        try expectTensor(Functional.maxPool2d(input, kernel: (2, 2)), shape: [1, 1, 2, 2], [5, 7, 13, 15])
        try expectTensor(Functional.avgPool2d(input, kernel: (2, 2)), shape: [1, 1, 2, 2], [2.5, 4.5, 10.5, 12.5])
        try expectTensor(
            Functional.maxPool2d(input, kernel: (3, 3), stride: (1, 1), padding: (1, 1)).narrowed(
                dimension: 3, start: 0, length: 2),
            shape: [1, 1, 4, 2], [5, 6, 9, 10, 13, 14, 13, 14])
        let small = try Tensor([1.0, 2, 3, 4], shape: [1, 1, 2, 2])
        try expectTensor(
            Functional.avgPool2d(small, kernel: (2, 2), stride: (2, 2), padding: (1, 1)), shape: [1, 1, 2, 2],
            [0.25, 0.5, 0.75, 1])
        try expectTensor(
            Functional.avgPool2d(small, kernel: (2, 2), stride: (2, 2), padding: (1, 1), countIncludePad: false),
            shape: [1, 1, 2, 2], [1, 2, 3, 4])
        try expectTensor(Functional.adaptiveAvgPool2d(input, outputSize: (1, 1)), shape: [1, 1, 1, 1], [7.5])
        try expectTensor(Functional.adaptiveAvgPool2d(input, outputSize: (2, 2)), shape: [1, 1, 2, 2], [2.5, 4.5, 10.5, 12.5])
        try expectTensor(Functional.adaptiveMaxPool2d(input, outputSize: (1, 2)), shape: [1, 1, 1, 2], [13, 15])
        // Overlapping adaptive windows: rows {0,1}, {1,2} of a 3-row input.
        let three = try Tensor([1.0, 2, 3], shape: [1, 1, 3, 1])
        try expectTensor(Functional.adaptiveAvgPool2d(three, outputSize: (2, 1)), shape: [1, 1, 2, 1], [1.5, 2.5])
    }

    @Test("interpolate values")
    func interpolate() throws {
        let square = try Tensor([0.0, 1, 2, 3], shape: [1, 1, 2, 2])
        try expectTensor(
            Functional.interpolate(square, size: (3, 3), alignCorners: true), shape: [1, 1, 3, 3],
            [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3])
        try expectTensor(
            Functional.interpolate(square, size: (4, 4), mode: .nearest), shape: [1, 1, 4, 4],
            [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3])
        let row = try Tensor([0.0, 1.0], shape: [1, 1, 1, 2])
        try expectTensor(Functional.interpolate(row, size: (1, 4)), shape: [1, 1, 1, 4], [0, 0.25, 0.75, 1])

        // Shrinking [0, 1, 2, 3] by two: plain bilinear samples at 0.5 and 2.5; antialiasing averages with a
        // triangle filter twice as wide (weights ¾, ¾, ¼ over three pixels).
        let ramp = try Tensor([0.0, 1, 2, 3], shape: [1, 1, 1, 4])
        try expectTensor(Functional.interpolate(ramp, size: (1, 2)), shape: [1, 1, 1, 2], [0.5, 2.5])
        try expectTensor(
            Functional.interpolate(ramp, size: (1, 2), antialias: true), shape: [1, 1, 1, 2], [1.25 / 1.75, 4 / 1.75])
        // Resampling keeps constants constant, with every kernel.
        let constant = try Tensor.full([1, 2, 6, 5], 3.0, dtype: .float64)
        for mode in [Interpolation.bilinear, .bicubic] {
            for antialias in [false, true] {
                for size in [(3, 2), (9, 8)] {
                    let out = try Functional.interpolate(constant, size: size, mode: mode, antialias: antialias)
                    #expect(out.shape == [1, 2, size.0, size.1])
                    let low = try out.min().item()
                    let high = try out.max().item()
                    #expect(Swift.abs(low - 3) < 1e-12)
                    #expect(Swift.abs(high - 3) < 1e-12)
                }
            }
        }
        // Growing, antialiased bilinear equals plain bilinear. (Antialiased bicubic uses the a = −0.5 kernel of
        // PIL rather than a = −0.75, so it differs from plain bicubic even when growing.)
        let image = try uniformInput([1, 1, 3, 4], seed: 1)
        let plain = try Functional.interpolate(image, size: (5, 7))
        let filtered = try Functional.interpolate(image, size: (5, 7), antialias: true)
        #expect(try plain.isClose(to: filtered, rtol: 0, atol: 1e-12))
        let plainCubic = try Functional.interpolate(image, size: (5, 7), mode: .bicubic)
        let filteredCubic = try Functional.interpolate(image, size: (5, 7), mode: .bicubic, antialias: true)
        #expect(try !plainCubic.isClose(to: filteredCubic, rtol: 0, atol: 1e-6))
    }

    @Test("gridSample values")
    func gridSample() throws {
        let input = try Tensor([0.0, 1, 2, 3], shape: [1, 1, 2, 2])
        // Pixel centres with alignCorners false are at ±0.5: sampling them reproduces the input.
        let centres = try Tensor([-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5], shape: [1, 2, 2, 2])
        try expectTensor(Functional.gridSample(input, grid: centres), shape: [1, 1, 2, 2], [0, 1, 2, 3])
        // The image centre averages all four; (x, y) order: x moves along the width.
        let points = try Tensor([0.0, 0.0, 0.5, 0.0, 0.0, 0.5], shape: [1, 1, 3, 2])
        try expectTensor(Functional.gridSample(input, grid: points), shape: [1, 1, 1, 3], [1.5, 2, 2.5])
        // With alignCorners the corners are at ±1.
        let corners = try Tensor([1.0, -1.0, -1.0, 1.0], shape: [1, 1, 2, 2])
        try expectTensor(Functional.gridSample(input, grid: corners, alignCorners: true), shape: [1, 1, 1, 2], [1, 2])
        // Outside the input: zeros pads with 0, border repeats the edge.
        let outside = try Tensor([-1.0, -0.5, -2.0, -0.5], shape: [1, 1, 2, 2])
        try expectTensor(Functional.gridSample(input, grid: outside), shape: [1, 1, 1, 2], [0, 0])
        try expectTensor(Functional.gridSample(input, grid: outside, padding: .border), shape: [1, 1, 1, 2], [0, 0])
        let outsideRight = try Tensor([2.0, 0.5], shape: [1, 1, 1, 2])
        try expectTensor(Functional.gridSample(input, grid: outsideRight, padding: .border), shape: [1, 1, 1, 1], [3])
        try expectTensor(Functional.gridSample(input, grid: outsideRight, padding: .zeros), shape: [1, 1, 1, 1], [0])
        try expectTensor(
            Functional.gridSample(input, grid: Tensor([0.4, -0.4], shape: [1, 1, 1, 2]), mode: .nearest),
            shape: [1, 1, 1, 1], [1])
    }

    // MARK: - Normalisation

    @Test("layerNorm values")
    func layerNorm() throws {
        let x = try Tensor([1.0, 2, 3, 4, 2, 2, 2, 2], shape: [2, 4])
        let scale = 1 / (1.25 + 1e-5).squareRoot()
        try expectTensor(
            Functional.layerNorm(x, normalizedShape: [4]), shape: [2, 4],
            [-1.5 * scale, -0.5 * scale, 0.5 * scale, 1.5 * scale, 0, 0, 0, 0])
        let weight = try Tensor([1.0, 2, 3, 4])
        let bias = try Tensor([0.0, 0, 0, 1])
        try expectTensor(
            Functional.layerNorm(x, normalizedShape: [4], weight: weight, bias: bias), shape: [2, 4],
            [-1.5 * scale, -1 * scale, 1.5 * scale, 6 * scale + 1, 0, 0, 0, 1])
        // Over both dimensions: mean 2.25, biased variance 0.6875.
        let whole = try Functional.layerNorm(x, normalizedShape: [2, 4], eps: 0)
        #expect(Swift.abs(try whole.mean().item()) < 1e-12)
        #expect(Swift.abs(try whole[0][0].item() - (1 - 2.25) / 0.6875.squareRoot()) < 1e-12)
    }

    @Test("batchNorm: batch statistics in training, running statistics updated and used in evaluation")
    func batchNorm() throws {
        // Two channels over a batch of two with 2 positions each.
        let x = try Tensor([1.0, 3, 10, 10, 5, 7, 10, 30], shape: [2, 2, 2])
        let runningMean = try Tensor.zeros([2], dtype: .float64)
        let runningVariance = try Tensor.ones([2], dtype: .float64)
        let y = try Functional.batchNorm(
            x, weight: Tensor([1.0, 2.0]), bias: Tensor([0.0, 1.0]), runningMean: runningMean,
            runningVariance: runningVariance, training: true, momentum: 0.5, eps: 0)
        // Channel 0: {1, 3, 5, 7}, mean 4, biased variance 5; channel 1: {10, 10, 10, 30}, mean 15, variance 75.
        let s0 = 1 / 5.0.squareRoot()
        let s1 = 2 / 75.0.squareRoot()
        try expectTensor(
            y, shape: [2, 2, 2],
            [-3 * s0, -1 * s0, -5 * s1 + 1, -5 * s1 + 1, 1 * s0, 3 * s0, -5 * s1 + 1, 15 * s1 + 1])
        // Running statistics move halfway, with the unbiased variance (20/3 and 100).
        try expectTensor(runningMean, shape: [2], [2, 7.5])
        try expectTensor(runningVariance, shape: [2], [0.5 + 0.5 * 20 / 3, 0.5 + 0.5 * 100])

        let evaluation = try Functional.batchNorm(
            Tensor([2.0, 7.5, 4.0, 7.5], shape: [2, 2, 1]), weight: nil, bias: nil, runningMean: runningMean,
            runningVariance: runningVariance, training: false, eps: 0)
        try expectTensor(evaluation, shape: [2, 2, 1], [0, 0, 2 / (0.5 + 10.0 / 3).squareRoot(), 0])
        // Evaluation leaves the running statistics alone.
        try expectTensor(runningMean, shape: [2], [2, 7.5])
    }

    @Test("normalize values")
    func normalize() throws {
        try expectTensor(Functional.normalize(Tensor([3.0, 4.0])), shape: [2], [0.6, 0.8])
        try expectTensor(
            Functional.normalize(Tensor([3.0, 4.0, 0, 3], shape: [2, 2]), dimension: 0), shape: [2, 2], [1, 0.8, 0, 0.6])
        try expectTensor(Functional.normalize(Tensor([1.0, -3.0]), p: 1), shape: [2], [0.25, -0.75])
        // The zero vector stays zero instead of becoming NaN.
        try expectTensor(Functional.normalize(Tensor([0.0, 0.0])), shape: [2], [0, 0])
    }

    // MARK: - Embedding, attention and dropout

    @Test("embedding values and padding index")
    func embedding() throws {
        let weight = try Tensor([0.0, 1, 10, 11, 20, 21], shape: [3, 2]).requiringGrad()
        let out = try Functional.embedding(Tensor([2, 0, 2], shape: [1, 3]), weight: weight)
        try expectTensor(out, shape: [1, 3, 2], [20, 21, 0, 1, 20, 21])
        // Rows at the padding index are read but get no gradient.
        let padded = try Functional.embedding(Tensor([1, 2, 1]), weight: weight, paddingIndex: 1)
        try expectTensor(padded, shape: [3, 2], [10, 11, 20, 21, 10, 11])
        try padded.sum().backward()
        try expectTensor(#require(weight.grad), shape: [3, 2], [0, 0, 0, 0, 1, 1])
    }

    @Test("scaledDotProductAttention values")
    func attention() throws {
        let value = try Tensor([1.0, 10, 2, 20, 3, 30], shape: [1, 3, 2])
        // Equal scores: the mean of the values.
        let zeros = try Tensor.zeros([1, 2, 4], dtype: .float64)
        let keys = try Tensor.zeros([1, 3, 4], dtype: .float64)
        try expectTensor(
            Functional.scaledDotProductAttention(query: zeros, key: keys, value: value), shape: [1, 2, 2],
            [2, 20, 2, 20])
        // Causal with three queries: query i averages values 0…i.
        let q3 = try Tensor.zeros([1, 3, 4], dtype: .float64)
        try expectTensor(
            Functional.scaledDotProductAttention(query: q3, key: keys, value: value, causal: true), shape: [1, 3, 2],
            [1, 10, 1.5, 15, 2, 20])
        // A boolean mask that lets each query see one key.
        let mask = try Tensor([false, false, true, true, false, false], shape: [2, 3])
        try expectTensor(
            Functional.scaledDotProductAttention(query: zeros, key: keys, value: value, mask: mask), shape: [1, 2, 2],
            [3, 30, 1, 10])
        // Scores are scaled by 1/√E: with q·k₀ = ln 3 · √E and q·k₁ = 0 the weights are softmax([ln 3, 0]) = [¾, ¼].
        let e = 4.0
        let q = try Tensor([log(3.0) * e.squareRoot() / 0.5, 0, 0, 0], shape: [1, 1, 4])
        let k = try Tensor([1.0, 1, 1, 1, 0, 0, 0, 0], shape: [1, 2, 4]) * 0.5
        let v = try Tensor([4.0, 0.0], shape: [1, 2, 1])
        try expectTensor(Functional.scaledDotProductAttention(query: q, key: k, value: v), shape: [1, 1, 1], [3])
        // An additive mask of −∞ equals a false boolean entry.
        let additive = try Tensor([0.0, -Double.infinity], shape: [1, 2])
        try expectTensor(
            Functional.scaledDotProductAttention(query: q, key: k, value: v, mask: additive), shape: [1, 1, 1], [4])
    }

    @Test("dropout from a generator: reproducible by seed, the same statistics and gradient, global generator untouched")
    func dropoutFromGenerator() throws {
        let x = try Tensor.ones([100_000], dtype: .float64).requiringGrad()
        let global = try Engine.randomState()
        let y = try Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 5))
        #expect(try Engine.randomState().equals(global), "the global generator moved")
        let values = try y.toArray(Double.self)
        #expect(Swift.abs(Double(values.filter { $0 == 0 }.count) / 100_000 - 0.3) < 0.01)
        #expect(values.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.7) < 1e-12 })
        #expect(try Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 5)).equals(y))
        #expect(try !Functional.dropout(x, p: 0.3, training: true, generator: Generator(seed: 6)).equals(y))
        // The gradient is the mask scaled by 1/(1 − p): the output itself for a input of ones.
        try y.sum().backward()
        #expect(try #require(x.grad).equals(y.detach()))
        #expect(try Functional.dropout(x, p: 1, training: true, generator: Generator(seed: 5)).abs().sum().item() == 0)
    }

    @Test("attention with generator dropout: the composed path equals the fused one at p → 0, masks and causal included")
    func attentionWithGeneratorDropout() throws {
        let generator = try Generator(seed: 9)
        let q = try Tensor.randn([2, 3, 5, 4], dtype: .float64, generator: generator)
        let k = try Tensor.randn([2, 3, 6, 4], dtype: .float64, generator: generator)
        let v = try Tensor.randn([2, 3, 6, 4], dtype: .float64, generator: generator)
        let keep = try Tensor([true, true, false, true, true, false], shape: [1, 1, 1, 6])
        for (mask, causal) in [(nil, false), (keep, false), (nil, true)] as [(Tensor?, Bool)] {
            let fused = try Functional.scaledDotProductAttention(query: q, key: k, value: v, mask: mask, causal: causal)
            let composed = try Functional.scaledDotProductAttention(
                query: q, key: k, value: v, mask: mask, dropout: 1e-12, causal: causal, generator: Generator(seed: 1))
            #expect(try (fused - composed).abs().max().item() < 1e-9, "mask \(mask != nil), causal \(causal)")
        }
        // With real dropout: reproducible by seed, and some weights are dropped.
        let a = try Functional.scaledDotProductAttention(
            query: q, key: k, value: v, dropout: 0.5, generator: Generator(seed: 2))
        let b = try Functional.scaledDotProductAttention(
            query: q, key: k, value: v, dropout: 0.5, generator: Generator(seed: 2))
        let plain = try Functional.scaledDotProductAttention(query: q, key: k, value: v)
        #expect(try a.equals(b) && !a.equals(plain))
    }

    @Test("dropout statistics")
    func dropout() throws {
        Engine.seed(2024)
        let x = try Tensor.ones([100_000], dtype: .float64)
        let y = try Functional.dropout(x, p: 0.3, training: true)
        let values = try y.toArray(Double.self)
        let dropped = values.filter { $0 == 0 }.count
        // 3σ of the binomial is about 0.0043.
        #expect(Swift.abs(Double(dropped) / 100_000 - 0.3) < 0.01)
        // Survivors are scaled by 1/(1 − p), so the mean is preserved.
        #expect(values.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.7) < 1e-12 })
        #expect(Swift.abs(try y.mean().item() - 1) < 0.02)
        // Two draws differ.
        #expect(try !Functional.dropout(x, p: 0.3, training: true).equals(y))

        // Not training, or p = 0: the input itself.
        #expect(try Functional.dropout(x, p: 0.3, training: false) === x)
        #expect(try Functional.dropout(x, p: 0, training: true) === x)
        // p = 1 drops everything.
        #expect(try Functional.dropout(x, p: 1, training: true).abs().sum().item() == 0)
        // float32 too.
        let f = try Functional.dropout(Tensor.ones([10_000]), p: 0.5, training: true).toArray(Float.self)
        #expect(Set(f) == [0, 2])
    }
}
