import ArgumentParser
import BriVLInterpret
import Foundation
import Imaging

extension BriVL.Explain {
    struct ExplainNeuron: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "neuron",
            abstract: "Visualise units of the image tower, optionally pulled towards a concept.",
            discussion: """
                A unit is one channel of the pooled features the image tower hands to its embedding head (MGS \
                region vectors, feature-map cells or ViT tokens, averaged over regions). The image maximises that \
                unit's activation plus, with a prompt, the cosine with the prompt's text embedding. --top-k picks \
                the units through which an increase most raises the concept's cosine (the gradient of the cosine \
                with respect to each unit, averaged over random starting images).
                """)

        @Argument(help: "The concept to pull towards (required with --top-k).")
        var prompt: String?

        @Option(help: "A unit to visualise (repeatable).")
        var unit: [Int] = []

        @Option(help: "Visualise the K units most aligned with the prompt.")
        var topK: Int?

        @Option(help: "Weight of the cosine with the prompt (0: the unit alone).")
        var cosineWeight: Double = 1

        @Option(help: "Weight of the unit's activation.")
        var unitWeight: Double = 5

        @OptionGroup var options: ExplainOptions

        func validate() throws {
            guard !unit.isEmpty || topK != nil else { throw ValidationError("give --unit N or --top-k K") }
            if topK != nil && prompt == nil { throw ValidationError("--top-k needs a prompt to align the units with") }
        }

        func run() throws {
            let probe = try options.loadProbe()
            var settings = options.settings(modelSize: probe.imageSize)
            settings.cosineWeight = cosineWeight
            settings.unitWeight = unitWeight
            let inverter = try ImageInverter(probe: probe, settings: settings)
            let text = try prompt.map { try probe.textEmbeddings([$0]) }
            var units = unit
            if let topK, let text {
                let aligned = try probe.unitsAligned(
                    with: text, count: topK, background: settings.background, seed: options.seed)
                print("units most aligned with \(prompt!): "
                    + aligned.map { String(format: "%d (%+.4f)", $0.unit, $0.score) }.joined(separator: ", "))
                units += aligned.map(\.unit)
            }
            let contrast = try options.contrast(probe)
            let name = options.name ?? "neuron"
            var row = InversionRow()
            for unit in units {
                let result = try invert(inverter, InversionTarget(text: text, unit: unit, contrast: contrast), label: "unit \(unit)")
                print("unit \(unit): \(describeChange(result.before, result.after, showCosine: text != nil))")
                try row.append(result, prompt: prompt, unit: unit, settings: settings)
            }
            try row.write(as: name, with: options)
        }
    }
}
