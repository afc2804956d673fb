import Foundation
import Testing
import Torch
import TorchNN

// MARK: - Test modules

/// A BERT-style block: a `checkpointKeys` override, a bare tensor, an array of modules and optional children.
final class BertLikeBlock: Module {
    let dense: Linear
    let layerNorm: LayerNorm
    let positionScale: Tensor
    let heads: [Linear]
    let queryKV: Linear
    let pooler: Linear?
    let gate: Tensor?

    override class var checkpointKeys: [String: String] { ["layerNorm": "LayerNorm"] }

    init(withPooler: Bool, generator: Generator) throws {
        dense = try Linear(3, 3, generator: generator)
        layerNorm = try LayerNorm(3)
        positionScale = try Tensor.ones([2]).requiringGrad()
        heads = try [Linear(3, 2, generator: generator), Linear(3, 1, bias: false, generator: generator)]
        queryKV = try Linear(3, 6, bias: false, generator: generator)
        pooler = withPooler ? try Linear(3, 3, generator: generator) : nil
        gate = withPooler ? try Tensor.zeros([1]).requiringGrad() : nil
    }
}

/// A module subclass subclassed again: the superclass's properties come first.
class BaseBlock: Module {
    let scale: Tensor
    init(generator: Generator) throws {
        scale = try Tensor.rand([2], generator: generator).requiringGrad()
    }
}

final class DerivedBlock: BaseBlock {
    let projection: Linear
    override init(generator: Generator) throws {
        projection = try Linear(2, 2, generator: generator)
        try super.init(generator: generator)
    }
}

/// Convolution, batch norm (with buffers) and an MLP head.
final class TinyNet: Module, UnaryLayer {
    let conv: Conv2d
    let norm: BatchNorm2d
    let head: MLP

    init(generator: Generator) throws {
        conv = try Conv2d(2, 4, kernelSize: 3, padding: 1, generator: generator)
        norm = try BatchNorm2d(4)
        head = try MLP(sizes: [16, 5, 3], generator: generator)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        try head(norm(conv(input)).flattened(from: 1))
    }
}

/// A rank-2 parameter excluded from weight decay by its key.
final class ScaledHead: Module {
    let projection: Linear
    let logitScale: Tensor

    init(generator: Generator) throws {
        projection = try Linear(3, 2, generator: generator)
        logitScale = try Tensor.ones([1, 1]).requiringGrad()
    }
}

private func keys(_ pairs: [(key: String, tensor: Tensor)]) -> [String] { pairs.map(\.key) }

private func encoderLayerKeys(prefix: String) -> [String] {
    var keys: [String] = []
    for projection in ["query", "key", "value", "output"] {
        keys += ["\(prefix)self_attention.\(projection).weight", "\(prefix)self_attention.\(projection).bias"]
    }
    for name in ["norm1", "norm2", "linear1", "linear2"] { keys += ["\(prefix)\(name).weight", "\(prefix)\(name).bias"] }
    return keys
}

@Suite("Module reflection and state")
struct ModuleTests {
    @Test("TransformerEncoder keys: nested modules, arrays and the optional final norm")
    func transformerKeys() throws {
        let encoder = try TransformerEncoder(
            layerCount: 2, dimension: 4, heads: 2, feedForwardDimension: 8, normFirst: true,
            generator: Generator(seed: 1))
        let expected = encoderLayerKeys(prefix: "layers.0.") + encoderLayerKeys(prefix: "layers.1.") + [
            "final_norm.weight", "final_norm.bias",
        ]
        #expect(keys(encoder.namedParameters()) == expected)
        #expect(keys(encoder.stateDict()) == expected)
        #expect(keys(encoder.namedParameters()).contains("layers.0.self_attention.query.weight"))

        let modules = encoder.namedModules().map(\.key)
        // Per layer: the layer, self_attention and its 4 projections, norm1, norm2, linear1, linear2; then final_norm.
        #expect(modules.count == 2 * 10 + 1)
        for key in ["layers.0", "layers.1", "layers.0.self_attention", "layers.1.self_attention.output", "final_norm"] {
            #expect(modules.contains(key), "\(key) missing from \(modules)")
        }

        // Post-norm stacks have no final norm: the nil optional adds nothing.
        let postNorm = try TransformerEncoder(
            layerCount: 1, dimension: 4, heads: 2, feedForwardDimension: 8, normFirst: false,
            generator: Generator(seed: 1))
        #expect(keys(postNorm.namedParameters()) == encoderLayerKeys(prefix: "layers.0."))
    }

    @Test("optional parameters are found when present and skipped when nil")
    func optionalParameters() throws {
        #expect(keys(try Linear(3, 4).namedParameters()) == ["weight", "bias"])
        #expect(keys(try Linear(3, 4, bias: false).namedParameters()) == ["weight"])
        #expect(keys(try LayerNorm(4, affine: false).stateDict()).isEmpty)
        #expect(keys(try Conv2d(2, 2, kernelSize: 1, bias: false).namedParameters()) == ["weight"])
        #expect(keys(try BatchNorm2d(2, affine: false).stateDict()) == ["running_mean", "running_var", "num_batches_tracked"])
    }

    @Test("checkpointKeys override, snake_case names, arrays and optionals of a custom module")
    func customModuleKeys() throws {
        let full = try BertLikeBlock(withPooler: true, generator: Generator(seed: 1))
        #expect(
            keys(full.namedParameters()) == [
                "dense.weight", "dense.bias", "LayerNorm.weight", "LayerNorm.bias", "position_scale",
                "heads.0.weight", "heads.0.bias", "heads.1.weight", "query_kv.weight", "pooler.weight", "pooler.bias",
                "gate",
            ])
        let bare = try BertLikeBlock(withPooler: false, generator: Generator(seed: 1))
        #expect(
            keys(bare.namedParameters()) == [
                "dense.weight", "dense.bias", "LayerNorm.weight", "LayerNorm.bias", "position_scale",
                "heads.0.weight", "heads.0.bias", "heads.1.weight", "query_kv.weight",
            ])
        #expect(bare.namedModules().map(\.key) == ["dense", "LayerNorm", "heads.0", "heads.1", "query_kv"])
        // dense 9 + 3, LayerNorm 3 + 3, position_scale 2, heads 6 + 2 and 3, query_kv 18
        #expect(bare.parameterCount == 49)
    }

    @Test("superclass properties come before the subclass's")
    func inheritedProperties() throws {
        let block = try DerivedBlock(generator: Generator(seed: 1))
        #expect(keys(block.namedParameters()) == ["scale", "projection.weight", "projection.bias"])
    }

    @Test("Sequential finds the modules of its array of layers")
    func sequentialKeys() throws {
        let generator = try Generator(seed: 1)
        let model = Sequential([try Linear(3, 4, generator: generator), GELU(), try Linear(4, 2, generator: generator)])
        #expect(keys(model.namedParameters()) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"])
        #expect(model.parameterCount == 16 + 10)
    }

    @Test("BatchNorm2d buffers are in the state dict but are not parameters")
    func buffers() throws {
        let layer = try BatchNorm2d(3)
        #expect(keys(layer.namedParameters()) == ["weight", "bias"])
        #expect(keys(layer.namedBuffers()) == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(keys(layer.stateDict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(layer.parameterCount == 6)
        #expect(layer.trainableParameters().count == 2)
        #expect(layer.numBatchesTracked.dtype == .int64)
        #expect(!layer.runningMean.requiresGrad && !layer.runningVar.requiresGrad)
        // A buffer shares storage with the state dict entry.
        let state = Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.key, $0.tensor) })
        #expect(state["running_var"] === layer.runningVar)
    }

    @Test("parameterCount matches hand counts")
    func parameterCounts() throws {
        #expect(try Linear(3, 4).parameterCount == 16)
        // attention 4·(4·4 + 4) = 80, two norms 2·(4 + 4) = 16, linear1 8·4 + 8 = 40, linear2 4·8 + 4 = 36
        let layer = try TransformerEncoderLayer(dimension: 4, heads: 2, feedForwardDimension: 8)
        #expect(layer.parameterCount == 172)
        #expect(try Conv2d(4, 6, kernelSize: 3, groups: 2).parameterCount == 6 * 2 * 9 + 6)
        #expect(try Embedding(10, 3).parameterCount == 30)
    }

    @Test("train() and eval() reach every submodule")
    func trainEvalPropagate() throws {
        let encoder = try TransformerEncoder(
            layerCount: 2, dimension: 4, heads: 2, feedForwardDimension: 8, dropout: 0.1, generator: Generator(seed: 1))
        let modules = encoder.namedModules().map(\.module)
        #expect(modules.contains { $0 is Dropout })
        #expect(encoder.training && modules.allSatisfy { $0.training })
        encoder.eval()
        #expect(!encoder.training)
        #expect(modules.allSatisfy { !$0.training })
        encoder.layers[1].train()
        #expect(encoder.layers[1].selfAttention.training && !encoder.layers[0].selfAttention.training)
        encoder.train()
        #expect(modules.allSatisfy { $0.training })
    }

    @Test("freeze() stops gradients for every parameter, freeze(false) restores them")
    func freeze() throws {
        let net = try TinyNet(generator: Generator(seed: 1))
        let count = net.parameters().count
        #expect(net.trainableParameters().count == count)
        try net.freeze()
        #expect(net.parameters().allSatisfy { !$0.requiresGrad })
        #expect(net.trainableParameters().isEmpty)
        #expect(ParameterGroup.decayGroups(for: net, weightDecay: 0.1).allSatisfy { $0.parameters.isEmpty })
        try net.freeze(false)
        #expect(net.trainableParameters().count == count)
        try net.head.freeze()
        #expect(net.trainableParameters().count == count - 4)
    }

    @Test("to(dtype:) converts in place, keeping the tensor objects and integer buffers")
    func convertDType() throws {
        let net = try TinyNet(generator: Generator(seed: 1))
        let before = net.stateDict()
        let values = try before.map { try $0.tensor.toArray(Double.self) }
        try net.to(dtype: .float64)
        let after = net.stateDict()
        #expect(keys(after) == keys(before))
        for (old, new) in zip(before, after) {
            #expect(old.tensor === new.tensor, "\(old.key) was replaced")
            let expected: DType = old.key.hasSuffix("num_batches_tracked") ? .int64 : .float64
            #expect(new.tensor.dtype == expected, "\(new.key) is \(new.tensor.dtype)")
        }
        for (value, entry) in zip(values, after) { #expect(try entry.tensor.toArray(Double.self) == value, "\(entry.key)") }
        #expect(net.parameters().allSatisfy { $0.requiresGrad && $0.isLeaf })

        // The converted model runs in float64 and trains: gradients reach the same objects.
        let y = try net(normalTensor([2, 2, 2, 2], seed: 3))
        #expect(y.dtype == .float64)
        try y.sum().backward()
        #expect(net.conv.weight.grad?.dtype == .float64)
    }

    @Test("state dict round trip through safetensors into a model built with another seed")
    func safetensorsRoundTrip() throws {
        let source = try TinyNet(generator: Generator(seed: 1))
        _ = try source(normalTensor([4, 2, 2, 2], seed: 2).to(dtype: .float32))  // moves the running statistics
        source.eval()
        let target = try TinyNet(generator: Generator(seed: 2))
        target.eval()
        let x = try normalTensor([3, 2, 2, 2], seed: 3).to(dtype: .float32)
        #expect(try !source(x).equals(target(x)))

        try withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("tiny.safetensors").path
            try Safetensors.save(Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.key, $0.tensor) }), to: path)
            try target.load(stateDict: Safetensors.load(path))
        }
        #expect(try source(x).equals(target(x)))
        #expect(try target.norm.numBatchesTracked.itemInt() == 1)
        #expect(try target.norm.runningMean.equals(source.norm.runningMean))
        #expect(try target.norm.runningMean.abs().sum().item() > 0)
    }

    @Test("load(stateDict:) reports missing keys")
    func missingKeys() throws {
        let layer = try Linear(3, 4)
        #expect(throws: ModuleError.missingKeys(["bias"])) {
            try layer.load(stateDict: ["weight": Tensor.zeros([4, 3])])
        }
        #expect(throws: ModuleError.missingKeys(["weight", "bias"])) { try layer.load(stateDict: [:], strict: false) }
    }

    @Test("load(stateDict:) reports unexpected keys unless strict is off")
    func unexpectedKeys() throws {
        let layer = try Linear(3, 4)
        let state: [String: Tensor] = [
            "weight": try Tensor.full([4, 3], 0.5), "bias": try Tensor.full([4], -1.0), "extra.weight": try Tensor.zeros([1]),
        ]
        #expect(throws: ModuleError.unexpectedKeys(["extra.weight"])) { try layer.load(stateDict: state) }
        #expect(try layer.weight.ne(0.5).any().item() == 1)  // nothing was loaded
        try layer.load(stateDict: state, strict: false)
        #expect(try layer.weight.toArray(Float.self) == [Float](repeating: 0.5, count: 12))
        #expect(try layer.bias!.toArray(Float.self) == [-1, -1, -1, -1])
    }

    @Test("load(stateDict:) reports a shape mismatch and loads nothing")
    func shapeMismatch() throws {
        let layer = try Linear(3, 4)
        let original = try layer.weight.toArray(Float.self)
        let state: [String: Tensor] = ["weight": try Tensor.zeros([4, 3]), "bias": try Tensor.zeros([3])]
        #expect(throws: ModuleError.shapeMismatch(key: "bias", expected: [4], actual: [3])) {
            try layer.load(stateDict: state)
        }
        #expect(try layer.weight.toArray(Float.self) == original)
        let transposed: [String: Tensor] = ["weight": try Tensor.zeros([3, 4]), "bias": try Tensor.zeros([4])]
        do {
            try layer.load(stateDict: transposed)
            Issue.record("a transposed weight was accepted")
        } catch let error as ModuleError {
            #expect(error == .shapeMismatch(key: "weight", expected: [4, 3], actual: [3, 4]))
            #expect("\(error)".contains("weight") && "\(error)".contains("[4, 3]") && "\(error)".contains("[3, 4]"))
        }
    }

    @Test("the same seed builds the same model, another seed a different one")
    func seeds() throws {
        func build(_ seed: UInt64) throws -> TransformerEncoderLayer {
            try TransformerEncoderLayer(
                dimension: 4, heads: 2, feedForwardDimension: 8, generator: Generator(seed: seed))
        }
        let a = try build(7), b = try build(7), c = try build(8)
        for ((key, x), (_, y)) in zip(a.namedParameters(), b.namedParameters()) {
            #expect(try x.equals(y), "\(key)")
        }
        let linearKeys = a.namedParameters().filter { !$0.key.hasPrefix("norm") }
        for ((key, x), (_, z)) in zip(linearKeys, c.namedParameters().filter { !$0.key.hasPrefix("norm") }) {
            #expect(try !x.equals(z), "\(key) does not depend on the seed")
        }
        // Draws within one model differ from each other (the generator advances).
        #expect(try !a.selfAttention.query.weight.equals(a.selfAttention.key.weight))
        // Initial values respect PyTorch's fan-in bound 1/√4.
        #expect(try a.linear1.weight.abs().max().item() <= 0.5)
    }

    @Test("Dropout: identity in evaluation, zeroes about p and scales the rest by 1/(1 − p) in training")
    func dropout() throws {
        let p = 0.3
        let layer = try Dropout(p)
        let x = try Tensor.ones([100, 100])
        layer.eval()
        #expect(try layer(x).equals(x))

        layer.train()
        let values = try layer(x).toArray(Float.self)
        let zeros = values.filter { $0 == 0 }.count
        // Binomial(10 000, 0.3): mean 3000, standard deviation ≈ 45.8; ±5σ.
        #expect((2771...3229).contains(zeros), "\(zeros) zeros")
        let kept = values.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs(Double($0) - 1 / (1 - p)) < 1e-6 }, "kept values \(Set(kept))")

        #expect(throws: ModuleError.self) { try Dropout(1) }
        #expect(try Dropout(0)(x).equals(x))
    }

    @Test("decayGroups leaves biases, norm weights and excluded keys undecayed")
    func decayGroups() throws {
        let layer = try TransformerEncoderLayer(dimension: 4, heads: 2, feedForwardDimension: 8)
        let groups = ParameterGroup.decayGroups(for: layer, weightDecay: 0.05)
        #expect(groups.count == 2)
        #expect(groups[0].weightDecay == 0.05 && groups[1].weightDecay == 0)
        let named = layer.namedParameters()
        func keysOf(_ group: ParameterGroup) -> Set<String> {
            Set(group.parameters.map { tensor in named.first { $0.tensor === tensor }!.key })
        }
        #expect(
            keysOf(groups[0]) == [
                "self_attention.query.weight", "self_attention.key.weight", "self_attention.value.weight",
                "self_attention.output.weight", "linear1.weight", "linear2.weight",
            ])
        let undecayed = keysOf(groups[1])
        #expect(undecayed.count == 10)
        #expect(undecayed.isSuperset(of: ["norm1.weight", "norm2.weight", "norm1.bias", "linear1.bias", "self_attention.query.bias"]))

        let head = try ScaledHead(generator: Generator(seed: 1))
        let headGroups = ParameterGroup.decayGroups(for: head, weightDecay: 0.1)
        #expect(headGroups[0].parameters.count == 1 && headGroups[0].parameters[0] === head.projection.weight)
        #expect(headGroups[1].parameters.contains { $0 === head.logitScale })
    }

    @Test("clipGradientNorm returns the global norm and scales the gradients down to maxNorm")
    func clipGradients() throws {
        func parameters() throws -> [Tensor] {
            let a = try Tensor.zeros([3], dtype: .float64).requiringGrad()
            let b = try Tensor.zeros([2], dtype: .float64).requiringGrad()
            try a.setGrad(Tensor([3.0, 4, 0]))
            try b.setGrad(Tensor([0.0, -12]))
            return [a, b]
        }
        // ‖(3, 4, 0, 0, −12)‖ = 13
        let clipped = try parameters()
        let norm = try clipGradientNorm(clipped, maxNorm: 6.5)
        #expect(Swift.abs(norm - 13) < 1e-12)
        expectClose(try clipped[0].grad!.toArray(Double.self), [1.5, 2, 0], tolerance: 1e-6, "a")
        expectClose(try clipped[1].grad!.toArray(Double.self), [0, -6], tolerance: 1e-6, "b")
        let newNorm = try Tensor.cat(clipped.map { $0.grad! }).norm().item()
        #expect(Swift.abs(newNorm - 6.5) < 1e-6)

        let untouched = try parameters()
        #expect(Swift.abs(try clipGradientNorm(untouched, maxNorm: 20) - 13) < 1e-12)
        #expect(try untouched[0].grad!.toArray(Double.self) == [3, 4, 0])
        #expect(try untouched[1].grad!.toArray(Double.self) == [0, -12])

        #expect(try clipGradientNorm([Tensor.zeros([2]).requiringGrad()], maxNorm: 1) == 0)
    }

    @Test("ExponentialMovingAverage: target ← 0.9·target + 0.1·source")
    func exponentialMovingAverage() throws {
        let target = try float64Module({ try Linear(3, 2, generator: $0) }, seed: 1)
        let source = try float64Module({ try Linear(3, 2, generator: $0) }, seed: 2)
        let targetBefore = try target.parameters().map { try $0.toArray(Double.self) }
        let sourceBefore = try source.parameters().map { try $0.toArray(Double.self) }
        try ExponentialMovingAverage(momentum: 0.9).update(target, from: source)
        for (index, parameter) in target.parameters().enumerated() {
            let expected = zip(targetBefore[index], sourceBefore[index]).map { 0.9 * $0 + 0.1 * $1 }
            expectClose(try parameter.toArray(Double.self), expected, tolerance: 1e-15, "EMA parameter \(index)")
            #expect(try parameter.toArray(Double.self) != targetBefore[index])
        }
        for (index, parameter) in source.parameters().enumerated() {
            #expect(try parameter.toArray(Double.self) == sourceBefore[index])
        }
        #expect(throws: ModuleError.self) { try ExponentialMovingAverage(momentum: 0.9).update(target, from: Linear(3, 2, bias: false)) }
        #expect(throws: ModuleError.self) { try ExponentialMovingAverage(momentum: 1.5) }
    }
}
