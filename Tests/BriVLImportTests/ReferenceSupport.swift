import BriVL
import BriVLImport
import BriVLInference
import FileTestSupport
import Foundation
import Testing
import Torch

/// The folder the test-data script fills (``TestDataLocation``).
enum TestData {
    static var directory: URL { TestDataLocation.directory }
    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }
    static var isRequired: Bool { TestDataLocation.isRequired }
}

/// A reference model's `references.json` (the reference scripts' common fields): fixed images and texts, the
/// reference tokenizer's ids, and both towers' L2-normalised embeddings.
struct ReferenceEmbeddings: Decodable {
    let imageShape: [Int]
    let images: [Float]
    let texts: [String]
    let ids: [[Int]]
    let imageEmbeddings: [[Double]]
    let textEmbeddings: [[Double]]
    let logitScale: Double

    enum CodingKeys: String, CodingKey {
        case images, texts, ids
        case imageShape = "image_shape"
        case imageEmbeddings = "image_embeddings"
        case textEmbeddings = "text_embeddings"
        case logitScale = "logit_scale"
    }

    /// The `references.json` beside `checkpoint`.
    static func file(besides checkpoint: String) -> String {
        ((checkpoint as NSString).deletingLastPathComponent as NSString).appendingPathComponent("references.json")
    }

    init(besides checkpoint: String) throws {
        self = try JSONDecoder().decode(
            Self.self, from: Data(contentsOf: URL(fileURLWithPath: Self.file(besides: checkpoint))))
    }

    /// Embeds the images and texts with `trained` and compares: the ids (the reference pads to its full context,
    /// ours may pad to the longest row, so its extra places must be 0), both embeddings within `tolerance`, and
    /// the temperature. Returns the largest differences.
    func check(_ trained: TrainedModel, tolerance: Double = 1e-4) throws -> (image: Double, text: Double) {
        let model = trained.model
        model.eval()
        let images = try Tensor(images, shape: imageShape)
        let image = try maximumDifference(try withNoGrad { try model.encodeImage(images) }, imageEmbeddings)
        #expect(image < tolerance, "image embeddings differ by \(image)")

        let input = try TextInput(texts, for: model, tokenizer: trained.tokenizer)
        let width = input.encoding.shape[1]
        for (row, expected) in ids.enumerated() {
            let ours = input.encoding.ids(row: row).map(Int.init)
            #expect(Array(expected.prefix(width)) == ours, "ids of \(texts[row])")
            #expect(expected.dropFirst(width).allSatisfy { $0 == 0 })
        }
        let text = try maximumDifference(try withNoGrad { try model.encodeText(input) }, textEmbeddings)
        #expect(text < tolerance, "text embeddings differ by \(text)")
        #expect(abs(try model.logitScale.item() - logitScale) < 1e-6)
        return (image, text)
    }
}

/// A fresh folder for one test's outputs.
func scratchFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func maximumDifference(_ tensor: Tensor, _ reference: [[Double]]) throws -> Double {
    let values = try tensor.to(dtype: .float64).contiguous().toArray(Double.self)
    let flat = reference.flatMap { $0 }
    #expect(values.count == flat.count)
    return zip(values, flat).map { abs($0 - $1) }.max() ?? .infinity
}

/// Writes `tensors` as a safetensors checkpoint and imports it as `source`, returning the error (nil when it
/// imported). A failed import must leave nothing at the output (unless the output was given and already existed)
/// and no scratch folder beside it.
func importFailure(
    _ source: ImportSource, _ tensors: [String: Tensor], vocabulary: String, output: String? = nil
) throws -> ImportError? {
    let folder = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let file = (folder as NSString).appendingPathComponent("edited.safetensors")
    try Safetensors.save(tensors, to: file)
    let target = output ?? (folder as NSString).appendingPathComponent("run")
    do {
        try WeightImport(source: source, file: file, vocabulary: vocabulary, output: target).run()
        return nil
    } catch let error as ImportError {
        if output == nil { #expect(!FileManager.default.fileExists(atPath: target), "half-written output") }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".partial") }
        #expect(leftovers.isEmpty)
        return error
    }
}
