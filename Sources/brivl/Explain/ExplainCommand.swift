import ArgumentParser
import BriVLInference
import BriVLInterpret
import Foundation
import Imaging
import Torch

extension BriVL {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Visual explanations: concept images, unit visualisations, stories, pair saliency.",
            discussion: """
                concept, neuron and story optimise an image through the frozen towers (Fourier parameters with \
                1/f scaling, decorrelated colour, random jitter, total-variation and range penalties, a \
                coarse-to-fine schedule). Each writes PNG pictures and a JSON log of the objective per step \
                into --output, and prints the cosine (and activation) before and after.
                """,
            subcommands: [
                ExplainConcept.self, ExplainNeuron.self, ExplainStory.self, ExplainSaliency.self,
                ExplainTrainDecoder.self,
            ])
    }
}

/// What every explanation command takes: the model, where the pictures go, and the optimisation's knobs.
struct ExplainOptions: ParsableArguments {
    @Option(help: "A run folder (its latest checkpoint) or one step-… checkpoint folder.")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Folder for the pictures and logs.")
    var output: String = "explain"

    @Option(help: "Base name of the files written (default: the command's name).")
    var name: String?

    @Option(help: "Optimisation steps (per image).")
    var steps: Int = 400

    @Option(help: "Seed of the starting noise and of the jitter.")
    var seed: UInt64 = 0

    @Option(help: "Side of the optimised canvas in pixels (default: the model's input size).")
    var size: Int?

    @Option(help: "Adam's step size on the Fourier coefficients.")
    var learningRate: Double = 0.1

    @Option(help: "Jittered views averaged per step.")
    var views: Int = 4

    @Option(help: "Weight of the total-variation penalty (smoothness).")
    var totalVariation: Double = 0.3

    @Option(help: "A caption to move away from (repeatable): the picture keeps what is specific to the prompt.")
    var against: [String] = []

    @Option(help: "Largest random shift per step, as a fraction of the side.")
    var jitter: Double = 0.06

    @Option(help: "Largest random zoom per step, as a fraction (0.08: 0.92…1.08).")
    var scaleJitter: Double = 0.08

    @Option(help: "Largest random rotation per step, in degrees.")
    var rotation: Double = 8

    @Option(help: "Weight of the ink penalty: distance from the background colour (keeps the canvas plain).")
    var ink: Double = 0.3

    @Option(help: "Exponent of the 1/f scaling of the Fourier coefficients (higher: smoother pictures).")
    var decayPower: Double = 1

    @Option(help: "Enlargement of the written pictures (pixel repetition).")
    var zoom: Int = 3

    @Option(help: "Colour the starting noise lies on and the ink penalty pulls towards: white, grey or black. The training pictures' canvas colour works best: white for the caption canvases, grey for photographs.")
    var background: String = "white"

    static let backgrounds: [String: [Double]] = ["white": [0.92, 0.92, 0.92], "grey": [0.5, 0.5, 0.5], "black": [0.08, 0.08, 0.08]]

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard decayPower >= 0, decayPower <= 4 else {
            throw ValidationError("--decay-power must be between 0 and 4, got \(decayPower)")
        }
        guard (0...0.5).contains(jitter), (0..<1).contains(scaleJitter), (0...180).contains(rotation) else {
            throw ValidationError("--jitter must be in [0, 0.5], --scale-jitter in [0, 1), --rotation in [0, 180]")
        }
        guard views >= 1 else { throw ValidationError("--views must be at least 1, got \(views)") }
        guard (1...16).contains(zoom) else { throw ValidationError("--zoom must be between 1 and 16, got \(zoom)") }
        guard Self.backgrounds[background] != nil else {
            throw ValidationError("--background must be one of \(Self.backgrounds.keys.sorted().joined(separator: ", "))")
        }
        if let size, !(8...256).contains(size) {
            throw ValidationError("--size must be between 8 and 256 pixels, got \(size)")
        }
    }

    /// Applies the engine options and loads the model, saying what was loaded.
    func loadProbe() throws -> EmbeddingProbe {
        try Self.loadProbe(checkpoint: checkpoint, engine: engine)
    }

    /// The same for commands that take only a checkpoint and the engine options.
    static func loadProbe(checkpoint: String, engine: EngineOptions) throws -> EmbeddingProbe {
        let trained: TrainedModel
        do {
            trained = try engine.loadTrainedModel(checkpoint)
        } catch {
            throw InterpretError.invalidArgument("cannot load a model from \(checkpoint): \(error)")
        }
        return try EmbeddingProbe(model: trained.model, tokenizer: trained.tokenizer)
    }

    /// The optimisation settings these options describe, for a model of input side `modelSize`.
    func settings(modelSize: Int) -> InversionSettings {
        var settings = InversionSettings(size: size ?? modelSize)
        settings.steps = steps
        settings.seed = seed
        settings.learningRate = learningRate
        settings.viewsPerStep = views
        settings.totalVariationWeight = totalVariation
        settings.background = Self.backgrounds[background]!
        settings.decayPower = decayPower
        settings.inkWeight = ink
        settings.views = RandomViews(
            maximumShift: jitter, scaleRange: (1 - scaleJitter)...(1 + scaleJitter), maximumRotation: rotation)
        return settings
    }

    /// The embeddings of the --against captions, nil without any.
    func contrast(_ probe: EmbeddingProbe) throws -> Tensor? {
        against.isEmpty ? nil : try probe.textEmbeddings(against)
    }

    /// The output folder, created if needed, and the path of `file` inside it.
    func path(_ file: String) throws -> String {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        return (output as NSString).appendingPathComponent(file)
    }

    func writeJSON<T: Encodable>(_ value: T, to file: String) throws -> String {
        let encoder = JSONEncoder()
        // Compact: a log holds every step of every picture.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let target = try path(file)
        try encoder.encode(value).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes pictures as one row, enlarged by --zoom.
    func writeRow(_ images: [Image], to file: String) throws -> String {
        let target = try path(file)
        try Rendering.writePNG(Rendering.grid(images, columns: images.count), to: target, enlargedBy: zoom)
        return target
    }
}

/// The pictures of one explanation command and their logs, written side by side as `name.png` (one row) and
/// `name.json`.
struct InversionRow {
    var pictures: [Imaging.Image] = []
    var logs: [InversionLog] = []

    mutating func append(_ result: InversionResult, prompt: String?, unit: Int?, settings: InversionSettings) throws {
        pictures.append(try Rendering.image(from: result.image))
        logs.append(
            InversionLog(
                prompt: prompt, unit: unit, settings: settings, before: result.before, after: result.after,
                steps: result.steps))
    }

    func write(as name: String, with options: ExplainOptions) throws {
        let picture = try options.writeRow(pictures, to: "\(name).png")
        let log = try options.writeJSON(logs, to: "\(name).json")
        print("wrote \(picture), \(log)")
    }
}

/// Runs one optimisation with a progress bar showing the current objective.
func invert(
    _ inverter: ImageInverter, _ target: InversionTarget, start: FourierImage? = nil,
    decoder: PictureAutoencoder? = nil, label: String
) throws -> InversionResult {
    let bar = ProgressBar(label, total: inverter.settings.steps)
    let report: (Int, InversionStep) -> Void = { done, record in
        var detail = String(format: "cos %.3f", record.cosine)
        if let activation = record.activation { detail += String(format: " act %.3f", activation) }
        bar.update(done, detail: detail)
    }
    let result = try decoder.map { try inverter.run(target, decodingWith: $0, progress: report) }
        ?? inverter.run(target, start: start, progress: report)
    bar.finish(result.steps.count)
    return result
}

/// "cosine 0.012 → 0.634" (and the activation when there is one).
func describeChange(_ before: InversionMeasurement, _ after: InversionMeasurement, showCosine: Bool = true) -> String {
    var parts: [String] = []
    if showCosine { parts.append(String(format: "cosine %.3f → %.3f", before.cosine, after.cosine)) }
    if let a = before.activation, let b = after.activation {
        parts.append(String(format: "activation %.3f → %.3f", a, b))
    }
    return parts.joined(separator: ", ")
}
