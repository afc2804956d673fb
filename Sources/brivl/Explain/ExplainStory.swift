import ArgumentParser
import BriVLInterpret
import Foundation
import Imaging

extension BriVL.Explain {
    struct ExplainStory: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "story",
            abstract: "Prompts in sequence: each image starts from the previous one, with one shared seed.",
            discussion: """
                The first prompt is optimised from noise through the coarse-to-fine schedule; each later prompt \
                continues from the previous picture at full size, so the row shows one picture changing.
                """)

        @Argument(help: "Two or more prompts, in order.")
        var prompts: [String]

        @OptionGroup var options: ExplainOptions

        func validate() throws {
            guard prompts.count >= 2 else { throw ValidationError("a story needs at least two prompts") }
        }

        func run() throws {
            let probe = try options.loadProbe()
            let first = options.settings(modelSize: probe.imageSize)
            var later = first
            later.resolutions = [first.size]
            let texts = try probe.textEmbeddings(prompts)
            let contrast = try options.contrast(probe)
            let name = options.name ?? "story"
            var previous: FourierImage?
            var row = InversionRow()
            for (index, prompt) in prompts.enumerated() {
                let inverter = try ImageInverter(probe: probe, settings: previous == nil ? first : later)
                let target = InversionTarget(
                    text: try texts.narrowed(dimension: 0, start: index, length: 1), contrast: contrast)
                let result = try invert(inverter, target, start: previous, label: prompt)
                print("\(prompt): \(describeChange(result.before, result.after))")
                previous = result.parameters
                try row.append(result, prompt: prompt, unit: nil, settings: inverter.settings)
            }
            try row.write(as: name, with: options)
        }
    }
}
