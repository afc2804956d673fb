import BriVLData
import Torch
import TorchNN

/// A linear probe: multinomial logistic regression on frozen image embeddings, trained full-batch with AdamW and
/// weight decay. Features are standardised with the training side's per-dimension mean and deviation first, which
/// keeps the fit well conditioned whatever the embedding's scale. Few-shot probes draw k training images per class
/// (with a seed) and repeat over several draws.
public struct LinearProbe {
    public struct Settings: Sendable, Equatable {
        public var steps = 500
        public var learningRate = 0.05
        public var weightDecay = 1e-4
        public var seed: UInt64 = 0

        public init() {}
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// A trained probe: the training side's standardisation, weights [classes, dim] and bias [classes].
    public struct Classifier {
        public let mean: Tensor
        public let scale: Tensor
        public let weight: Tensor
        public let bias: Tensor

        /// Scores [n, classes].
        public func scores(_ features: Tensor) throws -> Tensor {
            try withNoGrad { try ((features - mean) / scale).matmul(weight.transposed()) + bias }
        }
    }

    /// Trains on `features` [n, dim] with `labels` out of `classes`; returns the classifier and the losses of the
    /// first and last step.
    public func train(features: Tensor, labels: [Int], classes: Int) throws -> (Classifier, first: Double, last: Double) {
        guard features.rank == 2, features.size(0) == labels.count, !labels.isEmpty else {
            throw EvaluationError.invalidArgument("a probe needs [n, dim] features and n labels")
        }
        guard labels.allSatisfy({ (0..<classes).contains($0) }) else {
            throw EvaluationError.invalidArgument("a label lies outside 0..<\(classes)")
        }
        let generator = try Generator(seed: settings.seed)
        let dimension = features.size(1)
        let weight = try (Tensor.randn([classes, dimension], generator: generator) * 0.01).requiringGrad()
        let bias = try Tensor.zeros([classes]).requiringGrad()
        let optimizer = try AdamW(
            groups: [ParameterGroup([weight], weightDecay: settings.weightDecay), ParameterGroup([bias])],
            learningRate: settings.learningRate)
        let raw = try features.detach().to(dtype: .float32)
        let mean = try raw.mean(dimension: 0, keepDimensions: true)
        // A dimension constant over the training side (always with one shot of one class) keeps scale 1.
        let centred = try raw - mean
        let deviation = try (centred * centred).mean(dimension: 0, keepDimensions: true).sqrt()
        let scale = try deviation + deviation.le(1e-6).to(dtype: .float32)
        let inputs = try centred / scale
        let targets = try Tensor(labels.map(Int64.init), shape: [labels.count])
        var first = Double.nan
        var last = Double.nan
        for step in 0..<settings.steps {
            try optimizer.zeroGrad()
            let loss = try Functional.crossEntropy(logits: inputs.matmul(weight.transposed()) + bias, targets: targets)
            try loss.backward()
            try optimizer.step()
            last = try loss.item()
            if step == 0 { first = last }
        }
        return (Classifier(mean: mean, scale: scale, weight: try weight.detach(), bias: try bias.detach()), first, last)
    }

    /// Indices of `shots` samples of every class, drawn without replacement by `seed`; a class with fewer samples
    /// gives all of them.
    public static func fewShotIndices(labels: [Int], classes: Int, shots: Int, seed: UInt64) -> [Int] {
        var random = LoaderRandom(seed: seed)
        return membersByClass(labels: labels, classes: classes).flatMap { members -> [Int] in
            var pool = members
            random.shuffle(&pool)
            return Array(pool.prefix(shots))
        }.sorted()
    }

    /// A stratified split of sample indices: about `testFraction` of every class goes to the test side.
    public static func stratifiedSplit(labels: [Int], classes: Int, testFraction: Double, seed: UInt64) -> (
        train: [Int], test: [Int]
    ) {
        var random = LoaderRandom(seed: seed ^ 0x5EED_7E57)
        var train: [Int] = []
        var test: [Int] = []
        for var members in membersByClass(labels: labels, classes: classes) where !members.isEmpty {
            random.shuffle(&members)
            let testCount = Swift.min(members.count - 1, Swift.max(1, Int((Double(members.count) * testFraction).rounded())))
            test += members.prefix(testCount)
            train += members.dropFirst(testCount)
        }
        return (train.sorted(), test.sorted())
    }

    /// Sample indices grouped by class.
    static func membersByClass(labels: [Int], classes: Int) -> [[Int]] {
        var byClass = Array(repeating: [Int](), count: classes)
        for (index, label) in labels.enumerated() { byClass[label].append(index) }
        return byClass
    }
}
