import BriVL
import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVLInterpret

@Suite("Decoder-based inversion")
struct DecoderTests {
    /// Eight 16-pixel pictures: a coloured square on a light canvas, at different places.
    private func pictures() throws -> Tensor {
        var values: [Float] = []
        for index in 0..<8 {
            let colour: [Float] = [[0.9, 0.1, 0.1], [0.1, 0.2, 0.9], [0.1, 0.8, 0.2], [0.9, 0.8, 0.1]][index % 4]
            let (top, left) = (index / 4 * 8, index % 2 * 8)
            for channel in 0..<3 {
                for y in 0..<16 {
                    for x in 0..<16 {
                        let inside = (top..<top + 8).contains(y) && (left..<left + 8).contains(x)
                        values.append(inside ? colour[channel] : 0.93)
                    }
                }
            }
        }
        return try Tensor(values, shape: [8, 3, 16, 16])
    }

    @Test("the reconstruction loss falls on a tiny set")
    func reconstructionImproves() throws {
        let autoencoder = try PictureAutoencoder(
            AutoencoderConfiguration(imageSize: 16, widths: [8, 16], latentChannels: 4), generator: Generator(seed: 1))
        let set = try pictures()
        let before = try withNoGrad { try autoencoder.reconstructionLoss(set).item() }
        let losses = try autoencoder.fit(set, steps: 150, batchSize: 8, learningRate: 5e-3)
        let after = try withNoGrad { try autoencoder.reconstructionLoss(set).item() }
        #expect(losses.count == 150)
        #expect(after < 0.3 * before, "reconstruction mse \(before) → \(after)")
        #expect(!autoencoder.training)
    }

    @Test("a saved autoencoder loads back with the same outputs")
    func saveAndLoad() throws {
        let autoencoder = try PictureAutoencoder(
            AutoencoderConfiguration(imageSize: 16, widths: [8, 16], latentChannels: 4), generator: Generator(seed: 2))
        autoencoder.eval()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decoder-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try autoencoder.save(to: directory)
        let loaded = try PictureAutoencoder.load(from: directory)
        let set = try pictures()
        #expect(try loaded.decode(loaded.encode(set)).equals(autoencoder.decode(autoencoder.encode(set))))
        #expect(throws: InterpretError.self) { try PictureAutoencoder.load(from: directory + "-missing") }
        #expect(throws: InterpretError.self) {
            try PictureAutoencoder(AutoencoderConfiguration(imageSize: 18, widths: [8, 16]))
        }
    }

    @Test("optimising the latent raises the cosine and leaves model and decoder untouched")
    func latentInversion() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let autoencoder = try PictureAutoencoder(
            AutoencoderConfiguration(imageSize: 16, widths: [8, 16], latentChannels: 4), generator: Generator(seed: 3))
        _ = try autoencoder.fit(try pictures(), steps: 60, batchSize: 8, learningRate: 5e-3)
        let decoderBefore = try autoencoder.parameters().map { try $0.clone() }
        let modelBefore = try model.parameters().map { try $0.clone() }

        var settings = InversionSettings(size: 16)
        settings.resolutions = [16]
        settings.steps = 80
        settings.learningRate = 0.1
        settings.viewsPerStep = 2
        let inverter = try ImageInverter(probe: probe, settings: settings)
        let text = try probe.textEmbeddings([InterpretFixtures.prompts[0]])
        let result = try inverter.run(InversionTarget(text: text), decodingWith: autoencoder)
        #expect(result.after.cosine > result.before.cosine + 0.2, "cosine \(result.before.cosine) → \(result.after.cosine)")
        #expect(result.parameters == nil && result.image.shape == [1, 3, 16, 16])
        #expect(try zip(autoencoder.parameters(), decoderBefore).allSatisfy { try $0.equals($1) })
        #expect(try zip(model.parameters(), modelBefore).allSatisfy { try $0.equals($1) })

        var mismatched = settings
        mismatched.size = 32
        mismatched.resolutions = [32]
        #expect(throws: InterpretError.self) {
            try ImageInverter(probe: probe, settings: mismatched).run(InversionTarget(text: text), decodingWith: autoencoder)
        }
    }
}
