import BriVL
import Foundation
import Imaging
import Torch
import TorchNN

/// What an optimised image should maximise: the cosine with a text embedding, one unit's activation, or both.
public struct InversionTarget {
    /// [1, D], L2-normalised; nil optimises the unit alone.
    public var text: Tensor?
    /// A pooled-feature channel of the image tower (see ``EmbeddingProbe``).
    public var unit: Int?
    /// [K, D] embeddings of texts to move away from (their mean cosine is subtracted, weighted by
    /// ``InversionSettings/contrastWeight``). A weak model gives every picture a high cosine with every caption,
    /// so the plain cosine is mostly satisfied by "a picture like the training pictures"; subtracting related
    /// captions leaves what is specific to the prompt.
    public var contrast: Tensor?

    public init(text: Tensor?, unit: Int? = nil, contrast: Tensor? = nil) {
        self.text = text
        self.unit = unit
        self.contrast = contrast
    }
}

/// The outcome of one optimisation.
public struct InversionResult {
    /// The final image, [1, 3, size, size] in (0, 1).
    public var image: Tensor
    /// Its Fourier parameters, to continue from (story mode); nil when a decoder drew it.
    public var parameters: FourierImage?
    public var before: InversionMeasurement
    public var after: InversionMeasurement
    public var steps: [InversionStep]
}

/// Optimises an image (only the image: the towers are frozen) so that the model sees a concept or fires a unit.
///
/// Each step renders the Fourier-parameterised image, draws jittered views of it at the model's input size,
/// and ascends cosine·w_c + activation·w_u − total variation·w_tv − range·w_r − ink·w_i with Adam on the
/// coefficients.
/// The canvas grows through ``InversionSettings/resolutions``.
public struct ImageInverter {
    public let probe: EmbeddingProbe
    public let settings: InversionSettings

    public init(probe: EmbeddingProbe, settings: InversionSettings) throws {
        try settings.validate()
        self.probe = probe
        self.settings = settings
    }

    /// - Parameters:
    ///   - start: the image to start from (resampled to the first resolution); nil starts from seeded noise
    ///   - progress: called after every step with the steps done so far and that step's record
    public func run(
        _ target: InversionTarget, start: FourierImage? = nil, progress: (Int, InversionStep) -> Void = { _, _ in }
    ) throws -> InversionResult {
        try checkTarget(target)
        return try withFrozenModel(probe.model) {
            var random = SeededRandom(seed: settings.seed)
            let first = settings.resolutions[0]
            var image: FourierImage
            if let start {
                image = try start.resampled(height: first, width: first, decayPower: settings.decayPower)
            } else {
                image = try FourierImage(
                    height: first, width: first, standardDeviation: settings.initialStandardDeviation,
                    background: settings.background, decayPower: settings.decayPower, generator: Generator(seed: settings.seed))
            }
            let before = try measure(withNoGrad { try image.render() }, target)
            var records: [InversionStep] = []
            for (resolution, stageSteps) in zip(settings.resolutions, settings.stepsPerResolution) {
                if image.height != resolution {
                    image = try image.resampled(height: resolution, width: resolution, decayPower: settings.decayPower)
                }
                try optimise(image, target, steps: stageSteps, random: &random, records: &records, progress: progress)
            }
            let final = try withNoGrad { try image.render() }
            return InversionResult(
                image: final, parameters: image, before: before, after: try measure(final, target), steps: records)
        }
    }

    /// The same optimisation over the latent map of a frozen decoder instead of Fourier coefficients: the picture
    /// can only be something the decoder draws. One resolution, the decoder's (which must be the settings' size).
    public func run(
        _ target: InversionTarget, decodingWith decoder: PictureAutoencoder,
        progress: (Int, InversionStep) -> Void = { _, _ in }
    ) throws -> InversionResult {
        try checkTarget(target)
        guard decoder.configuration.imageSize == settings.size else {
            throw InterpretError.invalidArgument(
                "the decoder draws \(decoder.configuration.imageSize)-pixel pictures, the canvas is \(settings.size)")
        }
        return try withFrozenModel(probe.model) {
            try withFrozenModel(decoder) {
                var random = SeededRandom(seed: settings.seed)
                let picture = try DecodedPicture(
                    decoder: decoder, background: settings.background,
                    standardDeviation: settings.initialStandardDeviation, generator: Generator(seed: settings.seed))
                let before = try measure(withNoGrad { try picture.logits().sigmoid() }, target)
                var records: [InversionStep] = []
                try optimise(picture, target, steps: settings.steps, random: &random, records: &records, progress: progress)
                let final = try withNoGrad { try picture.logits().sigmoid() }
                return InversionResult(
                    image: final, parameters: nil, before: before, after: try measure(final, target), steps: records)
            }
        }
    }

    private func optimise(
        _ picture: some PictureParameterisation, _ target: InversionTarget, steps: Int, random: inout SeededRandom,
        records: inout [InversionStep], progress: (Int, InversionStep) -> Void
    ) throws {
        let optimizer = try AdamW(groups: [ParameterGroup(picture.parameters)], learningRate: settings.learningRate)
        for _ in 0..<steps {
            let record = try step(picture, target, optimizer: optimizer, random: &random, index: records.count)
            records.append(record)
            progress(records.count, record)
        }
    }

    private func checkTarget(_ target: InversionTarget) throws {
        guard target.text != nil || target.unit != nil else {
            throw InterpretError.invalidArgument("give a prompt, a unit, or both to optimise towards")
        }
        if let unit = target.unit { try checkUnit(unit) }
        if let text = target.text, text.rank != 2 || text.size(0) != 1 {
            throw InterpretError.invalidArgument("the text target must be one embedding [1, D], got \(text.shape)")
        }
    }

    private func step(
        _ image: some PictureParameterisation, _ target: InversionTarget, optimizer: AdamW, random: inout SeededRandom, index: Int
    ) throws -> InversionStep {
        let logits = try image.logits()
        let rendered = try logits.sigmoid()
        let views = try settings.views.views(
            of: rendered, count: settings.viewsPerStep, outputSize: probe.imageSize, random: &random)
        let outputs = try probe.imageOutputs(views)
        var objective = try Tensor.zeros([])
        var cosineValue = 0.0
        var activationValue: Double?
        if let text = target.text {
            let cosine = try (outputs.embedding * text).sum(dimension: 1).mean()
            cosineValue = try cosine.item()
            objective = try objective + cosine * settings.cosineWeight
        }
        if let contrast = target.contrast {
            let away = try outputs.embedding.matmul(contrast.transposed()).mean()
            objective = try objective - away * settings.contrastWeight
        }
        if let unit = target.unit {
            let activation = try outputs.units.selected(dimension: 1, index: unit).mean()
            activationValue = try activation.item()
            objective = try objective + activation * settings.unitWeight
        }
        let totalVariation = try Penalties.totalVariation(rendered)
        let range = try Penalties.range(logits, limit: settings.rangeLimit)
        let ink = try Penalties.ink(rendered, background: Tensor(settings.background.map(Float.init), shape: [1, 3, 1, 1]))
        objective = try objective - totalVariation * settings.totalVariationWeight - range * settings.rangeWeight
            - ink * settings.inkWeight
        try (-objective).backward()
        try optimizer.step()
        try optimizer.zeroGrad()
        return InversionStep(
            step: index + 1, size: image.side, cosine: cosineValue, activation: activationValue,
            totalVariation: try totalVariation.item(), range: try range.item(), ink: try ink.item(), objective: try objective.item())
    }

    /// Cosine (0 without a prompt) and activation of an image seen as it is.
    public func measure(_ image: Tensor, _ target: InversionTarget) throws -> InversionMeasurement {
        let text = try target.text ?? Tensor.zeros([1, probe.model.configuration.image.head.outputSize])
        let seen = try probe.measure(image, text: text)
        let activation = try target.unit.map { try seen.units.selected(dimension: 1, index: $0).item() }
        return InversionMeasurement(cosine: target.text == nil ? 0 : seen.cosine[0], activation: activation)
    }

    func checkUnit(_ unit: Int) throws {
        guard (0..<probe.unitCount).contains(unit) else {
            throw InterpretError.invalidArgument(
                "unit \(unit) does not exist: the image tower has \(probe.unitCount) units (0…\(probe.unitCount - 1))")
        }
    }
}
