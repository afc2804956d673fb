import BriVL
import Foundation
import Testing
import Torch
import TorchNN

@testable import BriVLInterpret

@Suite("Concept and unit inversion")
struct InversionTests {
    private func settings(steps: Int = 80) -> InversionSettings {
        var settings = InversionSettings(size: 16)
        settings.steps = steps
        settings.learningRate = 0.1
        settings.viewsPerStep = 2
        settings.seed = 11
        return settings
    }

    @Test("optimising the image raises the image–text cosine well above the starting noise")
    func cosineRises() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let inverter = try ImageInverter(probe: probe, settings: settings())
        let text = try probe.textEmbeddings([InterpretFixtures.prompts[0]])
        var reported = 0
        let result = try inverter.run(InversionTarget(text: text)) { done, _ in reported = done }
        #expect(reported == 80 && result.steps.count == 80)
        #expect(result.after.cosine > result.before.cosine + 0.2, "cosine \(result.before.cosine) → \(result.after.cosine)")
        #expect(result.image.shape == [1, 3, 16, 16])
        // The log went through the schedule: 8 → 16 pixels (4 is below the smallest resolution used).
        #expect(Array(Set(result.steps.map(\.size))).sorted() == [8, 16])
    }

    @Test("optimising a unit raises its activation well above the starting noise")
    func activationRises() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let inverter = try ImageInverter(probe: probe, settings: settings())
        let result = try inverter.run(InversionTarget(text: nil, unit: 5))
        let before = try #require(result.before.activation)
        let after = try #require(result.after.activation)
        // Region vectors are unit length, so a unit's pooled activation lies in [−1, 1].
        #expect(after > before + 0.2, "activation \(before) → \(after)")
    }

    @Test("gradients reach the input only: every parameter and buffer is bit-identical afterwards")
    func modelUnchanged() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        model.train()
        let before = try (model.namedParameters() + model.namedBuffers()).map { ($0.key, try $0.tensor.clone()) }
        #expect(before.contains { $0.0.contains("running_mean") })
        let flags = model.parameters().map(\.requiresGrad)
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let inverter = try ImageInverter(probe: probe, settings: settings(steps: 12))
        _ = try inverter.run(InversionTarget(text: probe.textEmbeddings(["左边有一个红色方块"]), unit: 2))
        let after = Dictionary(uniqueKeysWithValues: (model.namedParameters() + model.namedBuffers()).map { ($0.key, $0.tensor) })
        for (key, tensor) in before {
            #expect(try after[key]!.equals(tensor), "\(key) changed")
        }
        #expect(model.parameters().allSatisfy { $0.grad == nil }, "a parameter received a gradient")
        #expect(model.parameters().map(\.requiresGrad) == flags)
        #expect(model.training, "the model's mode was not put back")
    }

    @Test("a story step starts from the previous picture")
    func continuesFromStart() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let first = try ImageInverter(probe: probe, settings: settings(steps: 20))
            .run(InversionTarget(text: probe.textEmbeddings([InterpretFixtures.prompts[0]])))
        var later = settings(steps: 1)
        later.resolutions = [16]
        later.learningRate = 1e-6
        let next = try ImageInverter(probe: probe, settings: later)
            .run(InversionTarget(text: probe.textEmbeddings([InterpretFixtures.prompts[1]])), start: first.parameters)
        #expect(try (next.image - first.image).abs().max().item() < 1e-3)
    }

    @Test("bad requests are refused with messages that say what to do")
    func errors() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let inverter = try ImageInverter(probe: probe, settings: settings(steps: 1))
        #expect(throws: InterpretError.invalidArgument("unit 8 does not exist: the image tower has 8 units (0…7)")) {
            try inverter.run(InversionTarget(text: nil, unit: 8))
        }
        #expect(throws: InterpretError.self) { try probe.textEmbeddings(["  "]) }
        #expect(throws: InterpretError.self) { try inverter.run(InversionTarget(text: nil)) }
        var bad = settings()
        bad.resolutions = [8, 4, 16]
        #expect(throws: InterpretError.self) { try ImageInverter(probe: probe, settings: bad) }
        #expect(throws: InterpretError.self) { try probe.unitsAligned(with: probe.textEmbeddings(["红色"]), count: 9) }
    }

    @Test("units are ranked by how much they raise the concept's cosine")
    func unitRanking() throws {
        let (model, tokenizer) = try InterpretFixtures.model()
        let probe = try EmbeddingProbe(model: model, tokenizer: tokenizer)
        let text = try probe.textEmbeddings([InterpretFixtures.prompts[0]])
        let ranked = try probe.unitsAligned(with: text, count: 8)
        #expect(Set(ranked.map(\.unit)) == Set(0..<8))
        #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.score >= $1.score })
        // The score is the cosine's sensitivity to each unit at the starting images: nudging the top unit up in
        // every region raises their mean cosine more than nudging the bottom unit.
        model.eval()
        let generator = try Generator(seed: 0)
        let starts = try (0..<8).map { _ in try FourierImage(height: 16, width: 16, generator: generator).render() }
        let features = try withNoGrad { try model.imageTower.features(probe.normalise(Tensor.cat(starts))) }
        func cosineAfterNudging(_ unit: Int) throws -> Double {
            let nudge = try Tensor.arange(8).eq(unit).to(dtype: .float32) * 0.01
            return try withNoGrad { try (model.imageTower.head(features + nudge) * text).sum(dimension: 1).mean().item() }
        }
        let top = try cosineAfterNudging(ranked.first!.unit)
        let bottom = try cosineAfterNudging(ranked.last!.unit)
        #expect(top > bottom, "top unit \(top), bottom unit \(bottom)")
        if ranked.first!.score > 0 {
            let plain = try withNoGrad { try (model.imageTower.head(features) * text).sum(dimension: 1).mean().item() }
            #expect(top > plain)
        }
    }
}
