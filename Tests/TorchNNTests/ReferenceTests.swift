import Foundation
import Testing
import Torch
import TorchNN

/// Layers, optimizers and the schedule against NumPy references (Tests/Reference/make_layer_references.py).
///
/// Each layer is built, converted to float64, loaded with the reference weights through `load(stateDict:)` (strict,
/// so the reference's checkpoint keys must be exactly the module's) and run on the reference inputs.
@Suite("NumPy references")
struct ReferenceTests {
    /// Float64 results agree with NumPy to rounding; 1e-9 is far below any formula mistake (eps, biased
    /// variance, scaling) yet far above accumulated rounding.
    static let float64Tolerance = 1e-9
    static let float32Tolerance = 1e-5

    /// Converts `module` to float64 and loads the case's weights.
    private func prepare(_ module: Module, _ reference: ReferenceCase, int64Keys: Set<String> = []) throws {
        try module.to(dtype: .float64)
        try module.load(stateDict: reference.stateDict(int64Keys: int64Keys))
    }

    @Test("the reference file is present and holds every case")
    func referenceFile() throws {
        let references = try loadReferences()
        #expect(
            Set(references.keys) == [
                "linear", "conv2d", "layer_norm", "batch_norm2d", "embedding", "gelu", "multi_head_attention",
                "encoder_layer_pre_norm", "encoder_layer_post_norm", "encoder_pre_norm_two_layers", "mlp", "adamw",
                "sgd_nesterov", "warmup_cosine_schedule",
            ])
    }

    @Test("Linear")
    func linear() throws {
        let reference = try referenceCase("linear")
        let layer = try Linear(reference.integer("input_size"), reference.integer("output_size"))
        try prepare(layer, reference)
        let y = try layer(reference.input("x").float64())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, "linear")
    }

    @Test("Conv2d with stride 2, padding 1 and 2 groups")
    func conv2d() throws {
        let reference = try referenceCase("conv2d")
        let layer = try Conv2d(
            reference.integer("in_channels"), reference.integer("out_channels"), kernelSize: reference.integer("kernel"),
            stride: reference.integer("stride"), padding: reference.integer("padding"),
            groups: reference.integer("groups"))
        try prepare(layer, reference)
        let y = try layer(reference.input("x").float64())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, "conv2d")
    }

    @Test("LayerNorm")
    func layerNorm() throws {
        let reference = try referenceCase("layer_norm")
        let layer = try LayerNorm(reference.integer("size"), eps: reference.number("eps"))
        try prepare(layer, reference)
        let y = try layer(reference.input("x").float64())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, "layer norm")
    }

    @Test("BatchNorm2d: training output and running statistics, then evaluation with the updated statistics")
    func batchNorm() throws {
        let reference = try referenceCase("batch_norm2d")
        let layer = try BatchNorm2d(
            reference.integer("channels"), eps: reference.number("eps"), momentum: reference.number("momentum"))
        try prepare(layer, reference, int64Keys: ["num_batches_tracked"])
        #expect(layer.numBatchesTracked.dtype == .int64)

        layer.train()
        let y = try layer(reference.input("x").float64())
        try expectMatches(y, reference.output("y_train"), tolerance: Self.float64Tolerance, "training output")
        try expectMatches(
            layer.runningMean, reference.output("running_mean"), tolerance: Self.float64Tolerance, "running mean")
        try expectMatches(
            layer.runningVar, reference.output("running_var"), tolerance: Self.float64Tolerance,
            "running variance (unbiased update)")
        #expect(try layer.numBatchesTracked.itemInt() == Int(reference.output("num_batches_tracked").data[0]))
        let trainedMean = try layer.runningMean.toArray(Double.self)
        let trainedVar = try layer.runningVar.toArray(Double.self)

        layer.eval()
        let yEval = try layer(reference.input("x_eval").float64())
        try expectMatches(yEval, reference.output("y_eval"), tolerance: Self.float64Tolerance, "evaluation output")
        // Evaluation neither moves the statistics nor counts the batch.
        #expect(try layer.runningMean.toArray(Double.self) == trainedMean)
        #expect(try layer.runningVar.toArray(Double.self) == trainedVar)
        #expect(try layer.numBatchesTracked.itemInt() == 1)
    }

    @Test("Embedding with a padding index")
    func embedding() throws {
        let reference = try referenceCase("embedding")
        let layer = try Embedding(
            reference.integer("count"), reference.integer("dimension"),
            paddingIndex: reference.integer("padding_index"))
        try prepare(layer, reference)
        let y = try layer(reference.input("indices").int64())
        try expectMatches(y, reference.output("y"), tolerance: 0, "embedding")
    }

    @Test("GELU, exact and tanh approximation, as layer and as activation")
    func gelu() throws {
        let reference = try referenceCase("gelu")
        let x = try reference.input("x").float64()
        try expectMatches(GELU()(x), reference.output("exact"), tolerance: 1e-12, "exact GELU")
        try expectMatches(
            GELU(approximateWithTanh: true)(x), reference.output("tanh"), tolerance: 1e-12, "tanh GELU")
        try expectMatches(Activation.gelu(x), reference.output("exact"), tolerance: 1e-12, "Activation.gelu")
        try expectMatches(Activation.geluTanh(x), reference.output("tanh"), tolerance: 1e-12, "Activation.geluTanh")
        // The two differ enough that swapping them would be caught.
        let gap = try maxAbsDifference(GELU()(x), reference.output("tanh").data)
        #expect(gap > 1e-4)
    }

    @Test("MultiHeadAttention with and without a key padding mask")
    func multiHeadAttention() throws {
        let reference = try referenceCase("multi_head_attention")
        let layer = try MultiHeadAttention(dimension: reference.integer("dimension"), heads: reference.integer("heads"))
        try prepare(layer, reference)
        let x = try reference.input("x").float64()
        let mask = try reference.input("key_padding_mask").bool()
        try expectMatches(
            layer(x, keyPaddingMask: mask), reference.output("y"), tolerance: Self.float64Tolerance, "masked")
        try expectMatches(layer(x), reference.output("y_unmasked"), tolerance: Self.float64Tolerance, "unmasked")
        // The mask matters for the first sequence (its last key is padding) and not for the second.
        let difference = try maxAbsDifference(
            layer(x, keyPaddingMask: mask)[0], reference.output("y_unmasked").data.prefix(12).map { $0 })
        #expect(difference > 1e-3)
    }

    @Test("TransformerEncoderLayer", arguments: [("encoder_layer_pre_norm", true), ("encoder_layer_post_norm", false)])
    func encoderLayer(name: String, normFirst: Bool) throws {
        let reference = try referenceCase(name)
        let layer = try TransformerEncoderLayer(
            dimension: reference.integer("dimension"), heads: reference.integer("heads"),
            feedForwardDimension: reference.integer("feed_forward"), dropout: 0, activation: .gelu,
            normFirst: normFirst, layerNormEps: reference.number("eps"))
        try prepare(layer, reference)
        let y = try layer(reference.input("x").float64(), keyPaddingMask: reference.input("key_padding_mask").bool())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, name)
    }

    @Test("TransformerEncoderLayer in float32 agrees within 1e-5")
    func encoderLayerFloat32() throws {
        let reference = try referenceCase("encoder_layer_post_norm")
        let layer = try TransformerEncoderLayer(
            dimension: reference.integer("dimension"), heads: reference.integer("heads"),
            feedForwardDimension: reference.integer("feed_forward"), normFirst: false)
        try layer.load(stateDict: reference.stateDict())  // converted to the parameters' float32
        #expect(layer.parameters().allSatisfy { $0.dtype == .float32 })
        let x = try reference.input("x").float64().to(dtype: .float32)
        let y = try layer(x, keyPaddingMask: reference.input("key_padding_mask").bool())
        #expect(y.dtype == .float32)
        try expectMatches(y, reference.output("y"), tolerance: Self.float32Tolerance, "float32 post-norm")
    }

    @Test("two-layer pre-norm TransformerEncoder with its final norm")
    func encoder() throws {
        let reference = try referenceCase("encoder_pre_norm_two_layers")
        let encoder = try TransformerEncoder(
            layerCount: reference.integer("layers"), dimension: reference.integer("dimension"),
            heads: reference.integer("heads"), feedForwardDimension: reference.integer("feed_forward"),
            normFirst: true)
        try prepare(encoder, reference)
        let y = try encoder(reference.input("x").float64(), keyPaddingMask: reference.input("key_padding_mask").bool())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, "encoder")
    }

    @Test("MLP [4, 6, 3] with GELU between the layers")
    func mlp() throws {
        let reference = try referenceCase("mlp")
        let mlp = try MLP(sizes: reference.list("sizes"), activation: .gelu)
        try prepare(mlp, reference)
        let y = try mlp(reference.input("x").float64())
        try expectMatches(y, reference.output("y"), tolerance: Self.float64Tolerance, "mlp")
    }

    @Test("AdamW: three steps with decoupled weight decay")
    func adamW() throws {
        let reference = try referenceCase("adamw")
        let parameter = try reference.input("param").float64().requiringGrad()
        let optimizer = try AdamW(
            groups: [ParameterGroup([parameter], weightDecay: reference.number("weight_decay"))],
            learningRate: reference.number("lr"), betas: (reference.number("beta1"), reference.number("beta2")),
            eps: reference.number("eps"))
        for step in 1...3 {
            try parameter.setGrad(reference.input("grad\(step)").float64())
            try optimizer.step()
            try expectMatches(
                parameter, reference.output("param_after_step\(step)"), tolerance: 1e-12, "AdamW step \(step)")
        }
        #expect(optimizer.state(of: parameter)?.step == 3)
        #expect(parameter.requiresGrad && parameter.isLeaf)
    }

    @Test("SGD with Nesterov momentum and weight decay: three steps")
    func sgd() throws {
        let reference = try referenceCase("sgd_nesterov")
        let parameter = try reference.input("param").float64().requiringGrad()
        let optimizer = try SGD(
            parameters: [parameter], learningRate: reference.number("lr"), momentum: reference.number("momentum"),
            weightDecay: reference.number("weight_decay"), nesterov: true)
        for step in 1...3 {
            try parameter.setGrad(reference.input("grad\(step)").float64())
            try optimizer.step()
            try expectMatches(
                parameter, reference.output("param_after_step\(step)"), tolerance: 1e-12, "SGD step \(step)")
        }
    }

    @Test("WarmupCosineSchedule values, past the end included")
    func schedule() throws {
        let reference = try referenceCase("warmup_cosine_schedule")
        let schedule = try WarmupCosineSchedule(
            peak: reference.number("peak"), warmupSteps: reference.integer("warmup"),
            totalSteps: reference.integer("total"), floor: reference.number("floor"))
        let steps = try reference.input("steps").data.map { Int($0) }
        let rates = steps.map { schedule.learningRate(at: $0) }
        // Rates are ~1e-3, so 1e-15 is about 1e-12 relative.
        expectClose(rates, try reference.output("rates").data, tolerance: 1e-15, "schedule")
        let peak = try reference.number("peak"), floor = try reference.number("floor")
        #expect(schedule.learningRate(at: 2) == peak)
        #expect(Swift.abs(schedule.learningRate(at: 10) - floor) < 1e-18)
    }
}
