import ArgumentParser
import BriVLImport
import Foundation

extension BriVL {
    struct ImportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Turn released weights (Chinese-CLIP, OpenCLIP) into a run folder every command reads.",
            discussion: """
                Reads a Chinese-CLIP checkpoint (clip_cn_vit-b-16.pt, the other ViT sizes and clip_cn_rn50.pt) or an \
                OpenCLIP one of the CLIP class (open_clip_pytorch_model.bin or open_clip_model.safetensors: ViT-B-32, \
                RN50 and the other ViT sizes; OpenAI's weights in that layout) — torch.save files are read without \
                Python and without running anything in them — and writes a run folder: \
                checkpoints/step-00000000/ (model.json, model.safetensors), the tokenizer's file, preprocessing.json \
                (the resize and statistics the model expects, which the commands follow) and model-card.json \
                (source, sha256 of the file, parameters). The architecture is read from the weights' shapes. eval, \
                index, search, serve and explain then take the folder as --checkpoint.

                Neither project puts its vocabulary in its checkpoints: pass Chinese-CLIP's vocab.txt (from the \
                cn_clip package; scripts/fetch-test-data.sh puts it in .cache/test-data/vocab.txt) or OpenCLIP's \
                bpe_simple_vocab_16e6.txt.gz (from the open_clip package; .cache/test-data/clip-tokenizer/).

                OpenCLIP's files do not say which activation their blocks use: GELU unless --quick-gelu (OpenAI's \
                weights, OpenCLIP's -quickgelu model names).

                The output is written beside its destination and renamed into place: a failed import leaves nothing.
                """)

        @Option(help: "The family of the weights: \(ImportSource.allCases.map(\.rawValue).joined(separator: ", ")).")
        var from: String

        @Argument(help: "The checkpoint file (.pt / .pth torch.save, or .safetensors).")
        var file: String

        @Option(help: "The tokenizer vocabulary the model was trained with (vocab.txt; OpenCLIP: bpe_simple_vocab_16e6.txt.gz).")
        var vocabulary: String

        @Option(help: "The run folder to create (must not exist).")
        var output: String

        @Option(help: "The model's name in its configuration (default: the file's stem, or its folder's name for open_clip_pytorch_model.bin).")
        var name: String?

        @Option(help: "Tokens per text, start and end included (default: Chinese-CLIP's 52, OpenCLIP's positions, 77).")
        var contextLength: Int?

        @Flag(help: "OpenCLIP only: the blocks use QuickGELU (OpenAI's weights, OpenCLIP's -quickgelu models).")
        var quickGELU = false

        @Flag(help: "Print the model card as JSON on standard output.")
        var json = false

        func validate() throws {
            guard ImportSource(rawValue: from) != nil else {
                throw ValidationError(
                    "--from must be one of \(ImportSource.allCases.map(\.rawValue).joined(separator: ", ")), got \(from)")
            }
            if let contextLength, contextLength < 2 { throw ValidationError("--context-length must be at least 2") }
        }

        func run() throws {
            let started = Date()
            let job = WeightImport(
                source: ImportSource(rawValue: from)!, file: file, vocabulary: vocabulary, output: output, name: name,
                contextLength: contextLength, quickGELU: quickGELU)
            let card: ModelCard
            do {
                card = try job.run { phase in FileHandle.standardError.write(Data("\(phase)\n".utf8)) }
            } catch let error as ImportError {
                throw ValidationError("import failed: \(error)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(card), as: UTF8.self))
                return
            }
            let seconds = Date().timeIntervalSince(started)
            print(
                "imported \(card.file) (\(card.source.rawValue), sha256 \(card.sha256.prefix(16))…) into \(output): "
                    + "\(card.model), \(card.parameters) parameters, \(card.embeddingSize)-d embeddings, "
                    + "\(card.contextLength) tokens, in \(String(format: "%.1f", seconds)) s")
            if !card.ignoredKeys.isEmpty {
                print("left out (never used by the model): \(card.ignoredKeys.joined(separator: ", "))")
            }
        }
    }
}
