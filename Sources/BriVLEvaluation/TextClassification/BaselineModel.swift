import BriVL
import BriVLInference
import Torch

/// Models to compare a trained one with.
public enum BaselineModel {
    /// The part of a run's `training.json` that says how its weights began.
    private struct RunSeed: Decodable {
        struct Run: Decodable { var seed: UInt64 }
        var run: Run
    }

    /// The trained model's weights before pretraining: the same configuration built the way the trainer builds it,
    /// from the run's seed (the engine and an initialisation generator seeded alike). For a run trained from
    /// scratch this is the text tower "before image–text pretraining" of WenLan 2.0's comparison.
    public static func initialWeights(of trained: TrainedModel) throws -> (model: BriVLModel, seed: UInt64) {
        guard let checkpoint = trained.checkpoint else {
            throw EvaluationError.invalidArgument(
                "\(trained.source.identity) is not a training run's checkpoint, so it has no initial weights to compare with")
        }
        let seed = try checkpoint.document("training", as: RunSeed.self).run.seed
        Engine.seed(seed)
        let model = try BriVLModel(trained.model.configuration, generator: try Generator(seed: seed))
        model.eval()
        return (model, seed)
    }
}
