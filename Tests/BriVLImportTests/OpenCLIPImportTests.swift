import BriVL
import BriVLInference
import ContentHashing
import Foundation
import Imaging
import Testing
import Tokenization
import Torch

@testable import BriVLImport

/// The tiny OpenCLIPs of Tests/Reference/make_open_clip_references.py (open_clip 2.24's own model code, random
/// weights, saved as its releases are): a GELU ViT in `open-clip-tiny-vit`, a QuickGELU ModifiedResNet in
/// `open-clip-tiny-rn`. `BRIVL_OPEN_CLIP_REFERENCE=<folder>` runs the parity test on a full-size one the script wrote
/// (`make_open_clip_references.py DIR ViT-B-32` → DIR/open-clip-ViT-B-32).
private enum OpenCLIPReference {
    static let fileName = "open_clip_pytorch_model.bin"
    static var tinyViT: String { TestData.path("open-clip-tiny-vit/\(fileName)") }
    static var tinyResNet: String { TestData.path("open-clip-tiny-rn/\(fileName)") }
    static var merges: String { TestData.path("clip-tokenizer/\(CLIPTokenizer.mergesFileName)") }

    static var parityCheckpoints: [String] {
        if let folder = ProcessInfo.processInfo.environment["BRIVL_OPEN_CLIP_REFERENCE"], !folder.isEmpty {
            return [(folder as NSString).appendingPathComponent(fileName)]
        }
        return [tinyViT, tinyResNet]
    }

    static var isAvailable: Bool {
        (parityCheckpoints + [merges]).allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// Whether the reference was built with QuickGELU blocks.
    static func usesQuickGELU(_ checkpoint: String) throws -> Bool {
        struct Flag: Decodable { let quick_gelu: Bool }
        let data = try Data(contentsOf: URL(fileURLWithPath: ReferenceEmbeddings.file(besides: checkpoint)))
        return try JSONDecoder().decode(Flag.self, from: data).quick_gelu
    }
}

private let needsReference = ConditionTrait.enabled(
    if: OpenCLIPReference.isAvailable || TestData.isRequired,
    "needs the OpenCLIP references of scripts/fetch-test-data.sh (PyTorch and regex: python3-torch, python3-regex)")

@Suite("OpenCLIP checkpoints import and embed as open_clip does")
struct OpenCLIPImportTests {
    private func importRun(_ checkpoint: String, quickGELU: Bool, into folder: String) throws -> (ModelCard, String) {
        let output = (folder as NSString).appendingPathComponent("run")
        let card = try WeightImport(
            source: .openCLIP, file: checkpoint, vocabulary: OpenCLIPReference.merges, output: output,
            quickGELU: quickGELU
        ).run()
        return (card, output)
    }

    @Test(
        "imported tiny ViT (GELU) and ResNet (QuickGELU): embeddings within 1e-4 of open_clip's, BPE ids identical",
        needsReference, arguments: OpenCLIPReference.parityCheckpoints)
    func parity(checkpoint: String) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let quickGELU = try OpenCLIPReference.usesQuickGELU(checkpoint)
        let started = Date()
        let (card, output) = try importRun(checkpoint, quickGELU: quickGELU, into: folder)
        let seconds = Date().timeIntervalSince(started)
        #expect(card.source == .openCLIP && card.contextLength == 77 && card.epoch == nil)
        #expect(card.model == ((checkpoint as NSString).deletingLastPathComponent as NSString).lastPathComponent)
        #expect(card.activation == (quickGELU ? .quickGELU : .gelu))
        #expect(card.sha256 == (try SHA256.hexDigest(ofFile: checkpoint)))
        #expect(
            try ImagePreprocessing.read(runDirectory: output)
                == ImagePreprocessing(resize: .shorterSideCenterCrop, normalization: .clip))
        #expect(FileManager.default.fileExists(atPath: (output as NSString).appendingPathComponent(CLIPTokenizer.mergesFileName)))

        let trained = try TrainedModel(path: output)
        let configuration = trained.model.configuration
        #expect(configuration.text.causal?.activation == (quickGELU ? .quickGELU : .gelu))
        #expect(trained.tokenizer is CLIPTokenizer)
        if checkpoint == OpenCLIPReference.tinyViT {
            #expect(configuration.image.vit?.headCount == 2 && configuration.text.causal?.headCount == 2)
        }
        if checkpoint == OpenCLIPReference.tinyResNet {
            #expect(configuration.image.head == .attentionPool(inputSize: 256, cellCount: 4, headCount: 4, outputSize: 32))
            #expect(configuration.text.causal?.width == 64)
        }
        let (image, text) = try ReferenceEmbeddings(besides: checkpoint).check(trained)
        print(
            "open-clip parity \(card.model): \(card.parameters) parameters, import \(String(format: "%.2f", seconds)) s, "
                + "max |Δ| image \(image), text \(text)")
    }

    @Test("the wrong activation shows in the embeddings: the test can tell GELU from QuickGELU", needsReference)
    func activationMatters() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, output) = try importRun(OpenCLIPReference.tinyViT, quickGELU: true, into: folder)
        let reference = try ReferenceEmbeddings(besides: OpenCLIPReference.tinyViT)
        let trained = try TrainedModel(path: output)
        let input = try TextInput(reference.texts, for: trained.model, tokenizer: trained.tokenizer)
        let difference = try maximumDifference(
            try withNoGrad { try trained.model.encodeText(input) }, reference.textEmbeddings)
        #expect(difference > 1e-3, "QuickGELU blocks gave GELU's embeddings (max |Δ| \(difference))")
    }

    private func importFailure(_ tensors: [String: Tensor], vocabulary: String = OpenCLIPReference.merges) throws -> ImportError? {
        try BriVLImportTests.importFailure(.openCLIP, tensors, vocabulary: vocabulary)
    }

    @Test("missing and misshapen text keys, Chinese-CLIP files, custom text towers and a WordPiece vocabulary fail", needsReference)
    func badCheckpoints() throws {
        let source = try WeightImport.readStateDictionary(OpenCLIPReference.tinyViT).tensors

        var missing = source
        missing["ln_final.bias"] = nil
        #expect(try importFailure(missing) == .missingKeys(["ln_final.bias"]))

        var misshapen = source
        misshapen["text_projection"] = try Tensor.zeros([128, 16])
        guard case .shapeMismatch(let message) = try importFailure(misshapen) else {
            Issue.record("a misshapen text projection was accepted")
            return
        }
        #expect(message.contains("text_projection") && message.contains("[128, 16]"), "\(message)")

        var original = source
        for key in OpenCLIP.descriptiveKeys { original[key] = try Tensor.full([], Int64(77), dtype: .int64) }
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = (folder as NSString).appendingPathComponent("openai-layout.safetensors")
        try Safetensors.save(original, to: file)
        let card = try WeightImport(
            source: .openCLIP, file: file, vocabulary: OpenCLIPReference.merges,
            output: (folder as NSString).appendingPathComponent("run")
        ).run()
        #expect(card.ignoredKeys == OpenCLIP.descriptiveKeys)

        var chineseCLIP = source
        chineseCLIP["bert.embeddings.word_embeddings.weight"] = try Tensor.zeros([4, 4])
        guard case .wrongArchitecture(let bert) = try importFailure(chineseCLIP) else {
            Issue.record("a BERT text tower was not recognised")
            return
        }
        #expect(bert.contains("chinese-clip"))

        var custom = source
        custom["text.transformer.resblocks.0.ln_1.weight"] = try Tensor.zeros([4])
        guard case .unsupportedArchitecture = try importFailure(custom) else {
            Issue.record("a custom text tower was accepted")
            return
        }

        let wordPiece = TestData.path("vocab.txt")
        if FileManager.default.fileExists(atPath: wordPiece) {
            #expect(throws: ImportError.self) { try importFailure(source, vocabulary: wordPiece).map { throw $0 } }
        }
        #expect(throws: ImportError.self) {
            try WeightImport(
                source: .chineseCLIP, file: OpenCLIPReference.tinyViT, vocabulary: wordPiece,
                output: (folder as NSString).appendingPathComponent("other"), quickGELU: true
            ).run()
        }
    }
}
