import Torch

/// An optimizer's state in a form that a checkpoint can hold and another process can load: the per-parameter
/// tensors (moments, momentum buffers) by name, and everything else as Codable metadata.
///
/// Parameters are named by their checkpoint keys (those of `Module.namedParameters()`), never by object identity,
/// so a state exported in one run can be imported by the optimizer of a freshly built model in the next. Tensor
/// names are `<parameter key>.<slot>`, e.g. `layers.0.norm1.weight.exp_avg`.
public struct OptimizerState: @unchecked Sendable {
    /// Per-parameter tensors by `<parameter key>.<slot>`.
    public var tensors: [String: Tensor]
    public var metadata: Metadata

    public init(tensors: [String: Tensor], metadata: Metadata) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Everything but the tensors: enough to check that a state fits an optimizer before any of it is used.
    public struct Metadata: Codable, Equatable, Sendable {
        /// The optimizer that wrote the state ("AdamW", "SGD"); only the same kind imports it.
        public var kind: String
        /// The base learning rate when the state was exported.
        public var learningRate: Double
        /// Settings fixed at construction, by name (betas and eps; momentum, dampening and nesterov as 0 or 1).
        public var hyperparameters: [String: Double]
        /// The parameter groups in order, with the keys of their parameters.
        public var groups: [Group]
        /// Updates applied to each parameter so far. A parameter absent here has never had a gradient and has no
        /// state tensors.
        public var steps: [String: Int]

        public init(
            kind: String, learningRate: Double, hyperparameters: [String: Double], groups: [Group],
            steps: [String: Int]
        ) {
            self.kind = kind
            self.learningRate = learningRate
            self.hyperparameters = hyperparameters
            self.groups = groups
            self.steps = steps
        }
    }

    /// A parameter group as saved: its parameters' keys and its settings.
    public struct Group: Codable, Equatable, Sendable {
        public var keys: [String]
        public var weightDecay: Double
        public var learningRateScale: Double

        public init(keys: [String], weightDecay: Double, learningRateScale: Double) {
            self.keys = keys
            self.weightDecay = weightDecay
            self.learningRateScale = learningRateScale
        }
    }
}

/// The checkpoint key of every parameter of an optimizer's groups, resolved once per export or import.
struct ParameterKeyTable {
    /// `keys[g][i]` names `groups[g].parameters[i]`.
    let keys: [[String]]

    /// Fails when a parameter has no key or two parameters share one: the state could not be put back then.
    /// A tensor listed under several keys (tied weights) takes the first.
    init(groups: [ParameterGroup], parameterKeys: [(key: String, tensor: Tensor)]) throws {
        var byIdentity: [ObjectIdentifier: String] = [:]
        for (key, tensor) in parameterKeys where byIdentity[ObjectIdentifier(tensor)] == nil {
            byIdentity[ObjectIdentifier(tensor)] = key
        }
        var seen: Set<String> = []
        var keys: [[String]] = []
        for (groupIndex, group) in groups.enumerated() {
            var groupKeys: [String] = []
            for (index, parameter) in group.parameters.enumerated() {
                guard let key = byIdentity[ObjectIdentifier(parameter)] else {
                    throw ModuleError.invalidConfiguration(
                        "parameter \(index) of optimizer group \(groupIndex) (shape \(parameter.shape)) "
                            + "has no key among the given parameter keys")
                }
                guard seen.insert(key).inserted else {
                    throw ModuleError.invalidConfiguration(
                        "parameter \(key) appears more than once in the optimizer's groups")
                }
                groupKeys.append(key)
            }
            keys.append(groupKeys)
        }
        self.keys = keys
    }

    func metadata(of groups: [ParameterGroup]) -> [OptimizerState.Group] {
        zip(groups, keys).map {
            OptimizerState.Group(keys: $1, weightDecay: $0.weightDecay, learningRateScale: $0.learningRateScale)
        }
    }

    /// Each parameter with its key, group by group.
    func pairs(_ groups: [ParameterGroup]) -> [(key: String, parameter: Tensor)] {
        zip(groups, keys).flatMap { group, keys in zip(keys, group.parameters).map { ($0, $1) } }
    }
}

extension OptimizerState {
    /// Checks, before anything is changed, that this state was written by an optimizer of `kind` with the same
    /// settings over parameters with the same keys in the same groups, and that it holds exactly the tensors
    /// `slots` calls for. Import never changes an optimizer's configuration: a state written under other settings
    /// is rejected, so a resumed run cannot silently differ from the run it continues.
    func validate(
        kind: String, hyperparameters: [String: Double], groups: [ParameterGroup], table: ParameterKeyTable,
        slots: [String]
    ) throws {
        guard metadata.kind == kind else {
            throw ModuleError.invalidConfiguration(
                "the optimizer state was written by \(metadata.kind), this optimizer is \(kind)")
        }
        for name in Set(hyperparameters.keys).union(metadata.hyperparameters.keys).sorted()
        where hyperparameters[name] != metadata.hyperparameters[name] {
            let own = hyperparameters[name].map { "\($0)" } ?? "not a setting"
            let saved = metadata.hyperparameters[name].map { "\($0)" } ?? "absent"
            throw ModuleError.invalidConfiguration("\(kind) \(name) is \(own) here, \(saved) in the optimizer state")
        }
        guard metadata.learningRate.isFinite, metadata.learningRate >= 0 else {
            throw ModuleError.invalidConfiguration(
                "the optimizer state's learning rate \(metadata.learningRate) is not a finite rate ≥ 0")
        }

        let ownKeys = table.keys.flatMap { $0 }
        let savedKeys = metadata.groups.flatMap(\.keys)
        let savedSet = Set(savedKeys)
        let ownSet = Set(ownKeys)
        let missing = ownKeys.filter { !savedSet.contains($0) }
        if !missing.isEmpty { throw ModuleError.missingKeys(missing) }
        let unexpected = savedKeys.filter { !ownSet.contains($0) }
        if !unexpected.isEmpty { throw ModuleError.unexpectedKeys(unexpected) }
        guard metadata.groups.count == groups.count, savedKeys.count == savedSet.count else {
            throw ModuleError.invalidConfiguration(
                "the optimizer state has \(metadata.groups.count) parameter group(s) over \(savedKeys.count) entries, "
                    + "this optimizer \(groups.count) over \(ownKeys.count) parameters")
        }
        for (index, (saved, group)) in zip(metadata.groups, groups).enumerated() {
            let savedGroupKeys = Set(saved.keys)
            if let key = table.keys[index].first(where: { !savedGroupKeys.contains($0) }) {
                throw ModuleError.invalidConfiguration(
                    "parameter \(key) is in optimizer group \(index) here, in another group in the state")
            }
            guard saved.weightDecay == group.weightDecay, saved.learningRateScale == group.learningRateScale else {
                throw ModuleError.invalidConfiguration(
                    "optimizer group \(index) has weight decay \(group.weightDecay) and learning-rate scale "
                        + "\(group.learningRateScale) here, \(saved.weightDecay) and \(saved.learningRateScale) in the state")
            }
        }

        let unknownSteps = metadata.steps.keys.filter { !ownSet.contains($0) }.sorted()
        if !unknownSteps.isEmpty { throw ModuleError.unexpectedKeys(unknownSteps) }
        if let invalid = metadata.steps.sorted(by: { $0.key < $1.key }).first(where: { $0.value < 1 }) {
            throw ModuleError.invalidConfiguration(
                "parameter \(invalid.key) has step count \(invalid.value) in the optimizer state; counts start at 1")
        }

        let expected = Set(metadata.steps.keys.flatMap { key in slots.map { "\(key).\($0)" } })
        let absent = expected.filter { tensors[$0] == nil }.sorted()
        if !absent.isEmpty { throw ModuleError.missingKeys(absent) }
        let extra = tensors.keys.filter { !expected.contains($0) }.sorted()
        if !extra.isEmpty { throw ModuleError.unexpectedKeys(extra) }
        for (key, parameter) in table.pairs(groups) where metadata.steps[key] != nil {
            for slot in slots {
                let name = "\(key).\(slot)"
                let shape = tensors[name]!.shape
                guard shape == parameter.shape else {
                    throw ModuleError.shapeMismatch(key: name, expected: parameter.shape, actual: shape)
                }
            }
        }
    }

    /// A private copy of `<key>.<slot>` on `parameter`'s device with its dtype (after ``validate``), so the
    /// optimizer never writes into tensors it was given, e.g. views of a memory-mapped checkpoint.
    func copy(_ slot: String, of key: String, like parameter: Tensor) throws -> Tensor {
        try tensors["\(key).\(slot)"]!.detach().to(device: parameter.device, dtype: parameter.dtype, copy: true)
    }
}
