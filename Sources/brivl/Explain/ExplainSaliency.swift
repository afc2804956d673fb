import ArgumentParser
import BriVLInterpret
import BriVLInference
import Foundation

extension BriVL.Explain {
    struct ExplainSaliency: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "saliency",
            abstract: "Which image regions and which tokens drive an image–text cosine.",
            discussion: """
                Gradient × (input − baseline), with the gradient averaged along the path from the baseline \
                (integrated gradients, --steps points). Pixels: baseline a plain picture of the baseline colour, \
                summed over channels. Regions: the vectors the image head reads (MGS regions, feature-map cells, \
                ViT patches; the engine's fused attention does not expose attention weights, so ViTs get this \
                rather than attention roll-out), baseline the same vectors of the plain picture. Tokens: each \
                token's word vector, baseline zero. Writes <name>.png (picture, pixel map, \
                region map), <name>.json and <name>-tokens.txt.
                """)

        @Option(help: "The picture (PNG, JPEG or WebP).")
        var image: String

        @Option(help: "The caption.")
        var text: String

        @Option(help: "The colour standing for \"nothing here\": border (the picture's median border colour), white, black or grey.")
        var baseline: String = "border"

        @Option(help: "Points on each attribution path (1: plain gradient × input).")
        var steps: Int = 16

        @Option(help: "A run folder (its latest checkpoint) or one step-… checkpoint folder.")
        var checkpoint: String

        @Option(name: .shortAndLong, help: "Folder for the pictures and report.")
        var output: String = "explain"

        @Option(help: "Base name of the files written.")
        var name: String = "saliency"

        @Option(help: "Enlargement of the written pictures (pixel repetition).")
        var zoom: Int = 3

        @OptionGroup var engine: EngineOptions

        func validate() throws {
            guard baseline == "border" || Self.baselines[baseline] != nil else {
                throw ValidationError("--baseline must be border or one of \(Self.baselines.keys.sorted().joined(separator: ", "))")
            }
            guard (1...256).contains(steps) else { throw ValidationError("--steps must be between 1 and 256, got \(steps)") }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ValidationError("--text is empty")
            }
        }

        static let baselines: [String: [Float]] = ["white": [1, 1, 1], "black": [0, 0, 0], "grey": [0.5, 0.5, 0.5]]

        struct Report: Encodable {
            var image: String
            var text: String
            var baseline: String
            var cosine: Double
            var regions: [PairSaliency.RegionScore]
            var regionMap: [[Double]]
            var tokens: [PairSaliency.TokenScore]
            var pixels: [[Double]]

            enum CodingKeys: String, CodingKey {
                case image, text, baseline, cosine, regions, tokens, pixels
                case regionMap = "region_map"
            }
        }

        func run() throws {
            let probe = try ExplainOptions.loadProbe(checkpoint: checkpoint, engine: engine)
            let picture = try PictureInput.load(path: image, side: probe.imageSize)
            let baselineColour = Self.baselines[baseline] ?? PictureInput.borderColour(of: picture.image)
            let saliency = try probe.saliency(image: picture.tensor, text: text, baseline: baselineColour, steps: steps)

            print(String(format: "cosine %.4f (baseline colour %.2f %.2f %.2f)", saliency.cosine, baselineColour[0], baselineColour[1], baselineColour[2]))
            let bars = Rendering.tokenBars(saliency.tokens)
            print(bars)
            let strongest = saliency.regions.max { $0.score < $1.score }
            if let strongest, let cell = strongest.cell {
                print(String(format: "strongest region: grid %d, row %d, column %d (%+.4f)", cell.grid, cell.row, cell.column, strongest.score))
            }

            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let base = (output as NSString).appendingPathComponent(name)
            let row = try Rendering.grid(
                [
                    picture.image, try Rendering.heatMapOverlay(picture.image, map: Rendering.smoothed(saliency.pixels, radius: probe.imageSize / 32)),
                    try Rendering.heatMapOverlay(picture.image, map: saliency.regionMap),
                ], columns: 3)
            try Rendering.writePNG(row, to: base + ".png", enlargedBy: zoom)
            try (bars + "\n").write(toFile: base + "-tokens.txt", atomically: true, encoding: .utf8)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let report = Report(
                image: image, text: text, baseline: baseline, cosine: saliency.cosine, regions: saliency.regions,
                regionMap: saliency.regionMap, tokens: saliency.tokens, pixels: saliency.pixels)
            try encoder.encode(report).write(to: URL(fileURLWithPath: base + ".json"))
            print("wrote \(base).png, \(base).json, \(base)-tokens.txt")
        }
    }
}
