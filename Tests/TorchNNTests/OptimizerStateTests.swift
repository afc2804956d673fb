import Foundation
import Testing
import Torch
import TorchNN

// Exporting and importing optimizer state by parameter key: a resumed run must continue bit for bit.

/// A small model whose heads take part in different steps: `auxiliary` only every third step and `late` only from
/// step 4, so parameters reach different step counts and some have no optimizer state when it is exported.
final class ResumableNet: Module {
    let hidden: Linear
    let norm: LayerNorm
    let output: Linear
    let auxiliary: Linear
    let late: Linear
    let logitScale: Tensor

    init(seed: UInt64) throws {
        let generator = try Generator(seed: seed)
        hidden = try Linear(4, 6, generator: generator)
        norm = try LayerNorm(6)
        output = try Linear(6, 3, generator: generator)
        auxiliary = try Linear(6, 3, generator: generator)
        late = try Linear(6, 3, bias: false, generator: generator)
        logitScale = try Tensor.ones([1, 1]).requiringGrad()
    }

    /// The loss of training step `step`; its batch depends on the step number alone.
    func loss(step: Int) throws -> Tensor {
        let generator = try Generator(seed: 500 + UInt64(step))
        let x = try Tensor.randn([5, 4], generator: generator)
        let target = try Tensor.randn([5, 3], generator: generator)
        let features = try norm(hidden(x).relu())
        var prediction = try output(features) * logitScale
        if step % 3 == 2 { prediction = try prediction + auxiliary(features) }
        if step >= 4 { prediction = try prediction + late(features) }
        return try Functional.mseLoss(prediction, target)
    }
}

/// Runs training steps `steps`, decaying the learning rate by 0.9 after each, so the rate is state too.
private func train(_ model: ResumableNet, _ optimizer: any Optimizer, steps: Range<Int>) throws {
    for step in steps {
        try optimizer.zeroGrad()
        try model.loss(step: step).backward()
        try optimizer.step()
        optimizer.learningRate *= 0.9
    }
}

/// Every parameter's values as bit patterns, by key.
private func parameterBits(_ model: Module) throws -> [String: [UInt32]] {
    var result: [String: [UInt32]] = [:]
    for (key, tensor) in model.namedParameters() { result[key] = try tensor.toArray(Float.self).map(\.bitPattern) }
    return result
}

/// The state as a checkpoint would carry it: tensors through a safetensors file, metadata through JSON.
private func throughFiles(_ state: OptimizerState, model: Module) throws -> (OptimizerState, weights: [String: Tensor]) {
    try withTemporaryDirectory { folder in
        let optimizerPath = folder.appendingPathComponent("optimizer.safetensors").path
        let modelPath = folder.appendingPathComponent("model.safetensors").path
        try Safetensors.save(state.tensors, to: optimizerPath)
        try Safetensors.save(Dictionary(uniqueKeysWithValues: model.stateDict()), to: modelPath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let metadata = try JSONDecoder().decode(OptimizerState.Metadata.self, from: encoder.encode(state.metadata))
        #expect(metadata == state.metadata, "metadata survives JSON exactly")
        return (OptimizerState(tensors: try Safetensors.load(optimizerPath), metadata: metadata), try Safetensors.load(modelPath))
    }
}

/// Trains 7 steps without a break, and 3 steps + export + a fresh model and optimizer + import + 4 steps;
/// expects the parameters to be identical. Also trains a control that resumes the weights but not the optimizer,
/// which must differ (or the comparison would prove nothing).
private func expectExactResume(
    _ makeOptimizer: (ResumableNet) throws -> any Optimizer, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let uninterrupted = try ResumableNet(seed: 1)
    try train(uninterrupted, makeOptimizer(uninterrupted), steps: 0..<7)

    let first = try ResumableNet(seed: 1)
    let firstOptimizer = try makeOptimizer(first)
    try train(first, firstOptimizer, steps: 0..<3)
    let (state, weights) = try throughFiles(try firstOptimizer.exportState(for: first), model: first)

    let resumed = try ResumableNet(seed: 99)
    try resumed.load(stateDict: weights)
    let resumedOptimizer = try makeOptimizer(resumed)
    try resumedOptimizer.importState(state, for: resumed)
    #expect(resumedOptimizer.learningRate == firstOptimizer.learningRate, sourceLocation: sourceLocation)
    try train(resumed, resumedOptimizer, steps: 3..<7)
    #expect(try parameterBits(resumed) == parameterBits(uninterrupted), sourceLocation: sourceLocation)

    let control = try ResumableNet(seed: 99)
    try control.load(stateDict: weights)
    let controlOptimizer = try makeOptimizer(control)
    controlOptimizer.learningRate = firstOptimizer.learningRate
    try train(control, controlOptimizer, steps: 3..<7)
    #expect(try parameterBits(control) != parameterBits(uninterrupted), sourceLocation: sourceLocation)
}

/// Groups as a BERT-style recipe makes them: decayed matrices, undecayed vectors and logit scale at half the rate.
private func decayGroups(_ model: ResumableNet, weightDecay: Double) -> [ParameterGroup] {
    var groups = ParameterGroup.decayGroups(for: model, weightDecay: weightDecay)
    groups[1].learningRateScale = 0.5
    return groups
}

private func makeAdamW(_ model: ResumableNet) throws -> AdamW {
    try AdamW(groups: decayGroups(model, weightDecay: 0.05), learningRate: 0.01, betas: (0.8, 0.95), eps: 1e-6)
}

/// Runs `body` expecting a `ModuleError` and returns it.
private func moduleError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ModuleError? {
    do {
        try body()
        Issue.record("expected a ModuleError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ModuleError {
        return error
    } catch {
        Issue.record("expected a ModuleError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The message of an `invalidConfiguration` error, or "" (recording an issue) for anything else.
private func configurationMessage(_ error: ModuleError?, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    guard case .invalidConfiguration(let message)? = error else {
        Issue.record("expected ModuleError.invalidConfiguration, got \(String(describing: error))", sourceLocation: sourceLocation)
        return ""
    }
    return message
}

@Suite("Optimizer state export and import")
struct OptimizerStateTests {
    @Test("AdamW with parameter groups and weight decay resumes bit for bit")
    func adamWResume() throws {
        try expectExactResume { try makeAdamW($0) }
    }

    @Test("SGD with Nesterov momentum, weight decay and groups resumes bit for bit")
    func sgdResume() throws {
        try expectExactResume { model in
            try SGD(groups: decayGroups(model, weightDecay: 0.01), learningRate: 0.05, momentum: 0.9, nesterov: true)
        }
        try expectExactResume { model in
            try SGD(groups: decayGroups(model, weightDecay: 0.01), learningRate: 0.05, momentum: 0.5, dampening: 0.1)
        }
    }

    @Test("an AdamW state names moments by key, counts steps per parameter and is a snapshot")
    func adamWContents() throws {
        let model = try ResumableNet(seed: 1)
        let optimizer = try makeAdamW(model)
        try train(model, optimizer, steps: 0..<3)
        let state = try optimizer.exportState(for: model)

        // `late` has had no gradient yet: no state. `auxiliary` took part in step 2 only.
        let stepped = ["hidden.weight", "hidden.bias", "norm.weight", "norm.bias", "output.weight", "output.bias", "logit_scale"]
        var expectedSteps = Dictionary(uniqueKeysWithValues: stepped.map { ($0, 3) })
        expectedSteps["auxiliary.weight"] = 1
        expectedSteps["auxiliary.bias"] = 1
        #expect(state.metadata.steps == expectedSteps)
        #expect(Set(state.tensors.keys) == Set(expectedSteps.keys.flatMap { ["\($0).exp_avg", "\($0).exp_avg_sq"] }))
        #expect(state.metadata.kind == "AdamW")
        #expect(state.metadata.hyperparameters == ["beta1": 0.8, "beta2": 0.95, "eps": 1e-6])
        #expect(state.metadata.learningRate == optimizer.learningRate)
        #expect(state.metadata.groups.map(\.weightDecay) == [0.05, 0])
        #expect(state.metadata.groups.map(\.learningRateScale) == [1, 0.5])
        #expect(state.metadata.groups[0].keys == ["hidden.weight", "output.weight", "auxiliary.weight", "late.weight"])

        let moment = try #require(optimizer.state(of: model.hidden.weight)).firstMoment
        let exported = try #require(state.tensors["hidden.weight.exp_avg"])
        #expect(try exported.equals(moment))
        #expect(exported.shape == [6, 4])
        try train(model, optimizer, steps: 3..<4)
        #expect(try !exported.equals(moment), "later steps leave an exported state alone")
    }

    @Test("plain SGD has no tensors but still resumes with its step counts and learning rate")
    func plainSGD() throws {
        let model = try ResumableNet(seed: 1)
        let optimizer = try SGD(parameters: model.parameters(), learningRate: 0.1)
        try train(model, optimizer, steps: 0..<3)
        let state = try optimizer.exportState(for: model)
        #expect(state.tensors.isEmpty)
        #expect(state.metadata.steps["hidden.weight"] == 3 && state.metadata.steps["late.weight"] == nil)
        #expect(state.metadata.hyperparameters == ["momentum": 0, "dampening": 0, "nesterov": 0])

        let fresh = try SGD(parameters: model.parameters(), learningRate: 0.1)
        try fresh.importState(state, for: model)
        #expect(fresh.learningRate == optimizer.learningRate)
        #expect(try fresh.exportState(for: model).metadata == state.metadata)
    }

    @Test("a state from another optimizer kind or other settings is rejected, naming the difference")
    func mismatchedConfiguration() throws {
        let model = try ResumableNet(seed: 1)
        let adam = try makeAdamW(model)
        try train(model, adam, steps: 0..<2)
        let adamState = try adam.exportState(for: model)
        let sgd = try SGD(groups: decayGroups(model, weightDecay: 0.05), learningRate: 0.1, momentum: 0.9)

        #expect(configurationMessage(moduleError { try sgd.importState(adamState, for: model) }).contains("AdamW"))
        #expect(configurationMessage(moduleError { try adam.importState(try sgd.exportState(for: model), for: model) }).contains("SGD"))

        let otherBetas = try AdamW(groups: decayGroups(model, weightDecay: 0.05), learningRate: 0.01, betas: (0.8, 0.999), eps: 1e-6)
        let betaMessage = configurationMessage(moduleError { try otherBetas.importState(adamState, for: model) })
        #expect(betaMessage.contains("beta2") && betaMessage.contains("0.95"))

        let otherDecay = try AdamW(groups: decayGroups(model, weightDecay: 0.1), learningRate: 0.01, betas: (0.8, 0.95), eps: 1e-6)
        #expect(configurationMessage(moduleError { try otherDecay.importState(adamState, for: model) }).contains("weight decay"))

        let oneGroup = try AdamW(groups: [ParameterGroup(model.parameters())], learningRate: 0.01, betas: (0.8, 0.95), eps: 1e-6)
        #expect(configurationMessage(moduleError { try oneGroup.importState(adamState, for: model) }).contains("group"))

        // Nothing was imported by the failed calls.
        #expect(otherBetas.state(of: model.hidden.weight) == nil)
        #expect(otherDecay.learningRate == 0.01)
    }

    @Test("missing, unknown and misshapen state entries are errors naming the key")
    func mismatchedEntries() throws {
        let model = try ResumableNet(seed: 1)
        let optimizer = try makeAdamW(model)
        try train(model, optimizer, steps: 0..<2)
        let state = try optimizer.exportState(for: model)
        let fresh = try makeAdamW(model)

        var missing = state
        missing.tensors["hidden.weight.exp_avg"] = nil
        #expect(moduleError { try fresh.importState(missing, for: model) } == .missingKeys(["hidden.weight.exp_avg"]))

        var unknown = state
        unknown.tensors["hidden.weight.momentum_buffer"] = try Tensor.zeros([6, 4])
        #expect(
            moduleError { try fresh.importState(unknown, for: model) } == .unexpectedKeys(["hidden.weight.momentum_buffer"]))

        var misshapen = state
        misshapen.tensors["hidden.weight.exp_avg_sq"] = try Tensor.zeros([4, 6])
        #expect(
            moduleError { try fresh.importState(misshapen, for: model) }
                == .shapeMismatch(key: "hidden.weight.exp_avg_sq", expected: [6, 4], actual: [4, 6]))

        var unknownStep = state
        unknownStep.metadata.steps["encoder.weight"] = 2
        #expect(moduleError { try fresh.importState(unknownStep, for: model) } == .unexpectedKeys(["encoder.weight"]))

        // Keys of another model: every own key is missing from the state, every saved key unexpected.
        let prefixed = model.namedParameters().map { (key: "model.\($0.key)", tensor: $0.tensor) }
        guard case .missingKeys(let keys)? = moduleError({ try fresh.importState(state, parameterKeys: prefixed) }) else {
            Issue.record("expected missingKeys")
            return
        }
        #expect(keys.count == model.namedParameters().count && keys.contains("model.hidden.weight"))

        // A parameter of the optimizer without a key cannot be matched at all.
        let withoutHidden = model.namedParameters().filter { $0.key != "hidden.bias" }
        let message = configurationMessage(moduleError { try fresh.importState(state, parameterKeys: withoutHidden) })
        #expect(message.contains("no key"))
        #expect(configurationMessage(moduleError { _ = try optimizer.exportState(parameterKeys: withoutHidden) }).contains("no key"))

        #expect(fresh.state(of: model.hidden.weight) == nil, "failed imports change nothing")
        try fresh.importState(state, for: model)
        #expect(fresh.state(of: model.hidden.weight)?.step == 2)
    }

    @Test("imported tensors are private copies: updating the optimizer never writes into the loaded state")
    func importCopies() throws {
        let model = try ResumableNet(seed: 1)
        let optimizer = try makeAdamW(model)
        try train(model, optimizer, steps: 0..<2)
        let state = try optimizer.exportState(for: model)
        let before = try #require(state.tensors["output.weight.exp_avg"]).clone()
        let fresh = try makeAdamW(model)
        try fresh.importState(state, for: model)
        try train(model, fresh, steps: 2..<3)
        #expect(try state.tensors["output.weight.exp_avg"]!.equals(before))
        #expect(try !fresh.state(of: model.output.weight)!.firstMoment.equals(before))
    }
}
