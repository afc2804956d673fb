import BriVL
import BriVLTraining
import Torch

/// Models to compare a trained one with.
public enum BaselineModel {
    /// The trained model's weights before pretraining: the same configuration built the way the trainer builds it,
    /// from the run's seed (the engine and an initialisation generator seeded alike). For a run trained from
    /// scratch this is the text tower "before image–text pretraining" of WenLan 2.0's comparison.
    public static func initialWeights(of trained: TrainedModel) throws -> (model: BriVLModel, seed: UInt64) {
        let training: TrainingConfiguration = try trained.checkpoint.document("training")
        let seed = training.run.seed
        Engine.seed(seed)
        let model = try BriVLModel(trained.model.configuration, generator: try Generator(seed: seed))
        model.eval()
        return (model, seed)
    }
}
