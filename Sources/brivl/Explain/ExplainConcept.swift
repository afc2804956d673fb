import ArgumentParser
import BriVLInterpret
import Foundation
import Imaging

extension BriVL.Explain {
    struct ExplainConcept: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "concept",
            abstract: "Optimise an image whose embedding approaches each prompt's text embedding.",
            discussion: "Each prompt is optimised on its own from the same seed; the pictures form one row.")

        @Argument(help: "The concepts, e.g. \"红色的连衣裙\".")
        var prompts: [String]

        @Option(help: "A folder written by `brivl explain train-decoder`: optimise its latent map instead of pixels.")
        var decoder: String?

        @OptionGroup var options: ExplainOptions

        func validate() throws {
            guard !prompts.isEmpty else { throw ValidationError("give at least one prompt") }
        }

        func run() throws {
            let probe = try options.loadProbe()
            let autoencoder = try decoder.map { try PictureAutoencoder.load(from: $0) }
            var settings = options.settings(modelSize: autoencoder?.configuration.imageSize ?? probe.imageSize)
            if autoencoder != nil { settings.resolutions = [settings.size] }
            let inverter = try ImageInverter(probe: probe, settings: settings)
            let texts = try probe.textEmbeddings(prompts)
            let contrast = try options.contrast(probe)
            let name = options.name ?? "concept"
            var row = InversionRow()
            for (index, prompt) in prompts.enumerated() {
                let target = InversionTarget(
                    text: try texts.narrowed(dimension: 0, start: index, length: 1), contrast: contrast)
                let result = try invert(inverter, target, decoder: autoencoder, label: prompt)
                print("\(prompt): \(describeChange(result.before, result.after))")
                try row.append(result, prompt: prompt, unit: nil, settings: inverter.settings)
            }
            try row.write(as: name, with: options)
        }
    }
}
