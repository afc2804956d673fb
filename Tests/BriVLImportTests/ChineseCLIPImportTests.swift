import BriVL
import BriVLInference
import ContentHashing
import Foundation
import Imaging
import Testing
import Torch

@testable import BriVLImport

/// The tiny Chinese-CLIPs of Tests/Reference/make_chinese_clip_references.py (cn_clip's own model code, random
/// weights, saved as the releases are): a ViT in `chinese-clip` and a ModifiedResNet in `chinese-clip-tiny-rn`, under
/// `$BRIVL_TEST_DATA` or `.cache/test-data`. `BRIVL_CHINESE_CLIP_REFERENCE=<folder>` runs the parity test on a
/// full-size one the script wrote instead (`make_chinese_clip_references.py DIR ViT-B-16` → DIR/chinese-clip-ViT-B-16).
private enum Reference {
    static var dataDirectory: URL { TestData.directory }

    static var fullSize: String? { ProcessInfo.processInfo.environment["BRIVL_CHINESE_CLIP_REFERENCE"] }
    static var tiny: String { dataDirectory.appendingPathComponent("chinese-clip/clip_cn_tiny.pt").path }
    static var tinyResNet: String { dataDirectory.appendingPathComponent("chinese-clip-tiny-rn/clip_cn_tiny-rn.pt").path }

    /// The checkpoints of the parity test: the tiny ones, or the full-size folder's `.pt` file.
    static var parityCheckpoints: [String] {
        guard let folder = fullSize, !folder.isEmpty else { return [tiny, tinyResNet] }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return [(folder as NSString).appendingPathComponent(files.first { $0.hasSuffix(".pt") } ?? "missing.pt")]
    }

    static func references(of checkpoint: String) -> URL {
        URL(fileURLWithPath: (checkpoint as NSString).deletingLastPathComponent).appendingPathComponent("references.json")
    }
    static var vocabulary: String { dataDirectory.appendingPathComponent("vocab.txt").path }

    static var isAvailable: Bool {
        parityCheckpoints.allSatisfy {
            FileManager.default.fileExists(atPath: $0) && FileManager.default.fileExists(atPath: references(of: $0).path)
        }
    }
    static var isRequired: Bool { TestData.isRequired }
}

private let needsReference = ConditionTrait.enabled(
    if: Reference.isAvailable || Reference.isRequired,
    "needs the Chinese-CLIP reference of scripts/fetch-test-data.sh (PyTorch: python3-torch)")

@Suite("Chinese-CLIP checkpoints import and embed as cn_clip does")
struct ChineseCLIPImportTests {
    @Test(
        "imported tiny ViT and ResNet: image and text embeddings within 1e-4 of cn_clip's, tokenizer ids identical",
        needsReference, arguments: Reference.parityCheckpoints)
    func parity(checkpoint: String) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = (folder as NSString).appendingPathComponent("run")
        let started = Date()
        let card = try WeightImport(
            source: .chineseCLIP, file: checkpoint, vocabulary: Reference.vocabulary, output: output
        ).run()
        let importSeconds = Date().timeIntervalSince(started)
        #expect(card.epoch == 2 && card.step == 100)
        #expect(card.contextLength == 52)
        #expect(card.ignoredKeys.isEmpty)  // cn_clip 1.6 builds BERT without its pooler
        #expect(card.sha256 == (try SHA256.hexDigest(ofFile: checkpoint)))
        #expect(try ImagePreprocessing.read(runDirectory: output) == ImagePreprocessing(resize: .square, normalization: .clip))

        // Loaded the way every command loads a run folder.
        let trained = try TrainedModel(path: output)
        let model = trained.model
        let configuration = model.configuration
        if let vit = configuration.image.vit { #expect(vit.activation == .quickGELU) }
        if checkpoint == Reference.tiny {
            #expect(card.embeddingSize == 32)
            #expect(configuration.image.vit?.headCount == 2 && configuration.text.bert?.headCount == 2)
        }
        if checkpoint == Reference.tinyResNet {
            #expect(card.embeddingSize == 32)
            #expect(
                configuration.image.resnet
                    == ResNetConfiguration(
                        block: .bottleneck, depths: [1, 2, 1, 1], widths: [8, 16, 32, 64], stem: .deep,
                        downsampling: .averagePool, stemWidth: 8))
            #expect(configuration.image.imageSize == 64)
            #expect(configuration.image.head == .attentionPool(inputSize: 256, cellCount: 4, headCount: 4, outputSize: 32))
        }
        let (imageDifference, textDifference) = try ReferenceEmbeddings(besides: checkpoint).check(trained)
        print(
            "chinese-clip parity \(card.model): \(card.parameters) parameters, import \(String(format: "%.2f", importSeconds)) s, "
                + "max |Δ| image \(imageDifference), text \(textDifference)")
    }

    private func importFailure(
        _ tensors: [String: Tensor], vocabulary: String = Reference.vocabulary, output: String? = nil
    ) throws -> ImportError? {
        try BriVLImportTests.importFailure(.chineseCLIP, tensors, vocabulary: vocabulary, output: output)
    }

    @Test("missing, unexpected and misshapen keys (ViT and ResNet) and other models each fail naming what is wrong", needsReference)
    func badCheckpoints() throws {
        let source = try WeightImport.readStateDictionary(Reference.tiny).tensors

        var missing = source
        missing["visual.transformer.resblocks.1.ln_2.bias"] = nil
        #expect(try importFailure(missing) == .missingKeys(["visual.transformer.resblocks.1.ln_2.bias"]))

        var unexpected = source
        unexpected["visual.extra.weight"] = try Tensor.zeros([2, 3])
        #expect(try importFailure(unexpected) == .unexpectedKeys(["visual.extra.weight [2, 3]"]))

        var misshapen = source
        misshapen["text_projection"] = try Tensor.zeros([128, 16])
        guard case .shapeMismatch(let message) = try importFailure(misshapen) else {
            Issue.record("a misshapen projection was not refused")
            return
        }
        #expect(message.contains("text_projection") && message.contains("[128, 16]"), "\(message)")

        let resnet = try WeightImport.readStateDictionary(Reference.tinyResNet).tensors
        var lastStageMissing = resnet
        for key in lastStageMissing.keys where key.hasPrefix("visual.layer4.") { lastStageMissing[key] = nil }
        #expect(try importFailure(lastStageMissing) == .missingKeys(["visual.layer4.0.*"]))

        var badPositions = resnet
        badPositions["visual.attnpool.positional_embedding"] = try Tensor.zeros([6, 256])
        guard case .shapeMismatch(let positions) = try importFailure(badPositions) else {
            Issue.record("an attention pool for 5 cells was accepted")
            return
        }
        #expect(positions.contains("positional_embedding") && positions.contains("[6, 256]"), "\(positions)")

        var resNetExtra = resnet
        resNetExtra["visual.layer2.1.bn4.weight"] = try Tensor.zeros([3])
        guard case .unexpectedKeys(let extra) = try importFailure(resNetExtra) else {
            Issue.record("a ResNet key that maps nowhere was accepted")
            return
        }
        #expect(extra.contains { $0.contains("layer2.1.bn4.weight") }, "\(extra)")

        let other = Reference.dataDirectory.appendingPathComponent("torch-save/state_dict.pt").path
        if FileManager.default.fileExists(atPath: other) {
            let folder = try scratchFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            #expect(throws: ImportError.self) {
                try WeightImport(
                    source: .chineseCLIP, file: other, vocabulary: Reference.vocabulary,
                    output: (folder as NSString).appendingPathComponent("run")
                ).run()
            }
        }
    }

    @Test("BERT pooler weights (older checkpoints hold them) are left out and listed in the model card", needsReference)
    func poolerIgnored() throws {
        var source = try WeightImport.readStateDictionary(Reference.tiny).tensors
        source["bert.pooler.dense.weight"] = try Tensor.zeros([128, 128])
        source["bert.pooler.dense.bias"] = try Tensor.zeros([128])
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = (folder as NSString).appendingPathComponent("with-pooler.safetensors")
        try Safetensors.save(source, to: file)
        let output = (folder as NSString).appendingPathComponent("run")
        let card = try WeightImport(source: .chineseCLIP, file: file, vocabulary: Reference.vocabulary, output: output).run()
        #expect(card.ignoredKeys == ["bert.pooler.dense.bias", "bert.pooler.dense.weight"])
        #expect(card.epoch == nil)
        let written = try JSONDecoder().decode(
            ModelCard.self,
            from: Data(contentsOf: URL(fileURLWithPath: (output as NSString).appendingPathComponent(ModelCard.fileName))))
        #expect(written == card)
    }

    @Test("a vocabulary of another size and an existing output folder are refused, and nothing is written", needsReference)
    func badOptions() throws {
        let source = try WeightImport.readStateDictionary(Reference.tiny).tensors
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shortVocabulary = (folder as NSString).appendingPathComponent("vocab.txt")
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n的\n".write(toFile: shortVocabulary, atomically: true, encoding: .utf8)
        guard case .shapeMismatch(let message) = try importFailure(source, vocabulary: shortVocabulary) else {
            Issue.record("a 6-token vocabulary was accepted")
            return
        }
        #expect(message.contains("6 tokens") && message.contains("21128"), "\(message)")

        let existing = (folder as NSString).appendingPathComponent("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        try "keep".write(toFile: (existing as NSString).appendingPathComponent("note.txt"), atomically: true, encoding: .utf8)
        guard case .io(let exists) = try importFailure(source, output: existing) else {
            Issue.record("an existing output was overwritten")
            return
        }
        #expect(exists.contains("already exists"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: existing) == ["note.txt"])
    }
}
