import BriVL
import BriVLData
import Foundation
import Torch
import TorchNN

/// The small state of a run besides tensors, stored as `state.json` in each checkpoint.
struct TrainerState: Codable {
    var step: Int
    var loaderCursor: LoaderCursor?
    var imageQueuePosition: Int?
    var textQueuePosition: Int?
    var optimizer: OptimizerState.Metadata

    enum CodingKeys: String, CodingKey {
        case step
        case loaderCursor = "loader_cursor"
        case imageQueuePosition = "image_queue_position"
        case textQueuePosition = "text_queue_position"
        case optimizer
    }
}

extension Trainer {
    /// Every trained parameter under a key unique across the trained modules (`model.…`, `mlm_head.…`).
    var optimizerParameterKeys: [(key: String, tensor: Tensor)] {
        var keys = model.namedParameters().map { ("model.\($0.key)", $0.tensor) }
        if let head = objective.maskedLanguageModelHead {
            keys += head.namedParameters().map { ("mlm_head.\($0.key)", $0.tensor) }
        }
        return keys
    }

    /// Writes a checkpoint of the current step: model, MLM head, momentum towers, queues, optimizer, random state,
    /// loader cursor, and the model and training configurations.
    func saveCheckpoint() throws {
        var tensors: [String: [String: Tensor]] = [
            "model": Dictionary(uniqueKeysWithValues: model.stateDict()),
            "random": ["global": try Engine.randomState()],
        ]
        if let head = objective.maskedLanguageModelHead {
            tensors["mlm_head"] = Dictionary(uniqueKeysWithValues: head.stateDict())
        }
        if let towers = objective.momentumTowers, let imageQueue = objective.imageQueue,
            let textQueue = objective.textQueue
        {
            tensors["momentum"] = Dictionary(uniqueKeysWithValues: towers.stateDict())
            tensors["queues"] = ["image_keys": imageQueue.keys, "text_keys": textQueue.keys]
        }
        let optimizerState = try optimizer.exportState(parameterKeys: optimizerParameterKeys)
        tensors["optimizer"] = optimizerState.tensors
        let state = TrainerState(
            step: step, loaderCursor: cursor, imageQueuePosition: objective.imageQueue?.position,
            textQueuePosition: objective.textQueue?.position, optimizer: optimizerState.metadata)
        let checkpoint = try checkpoints.write(
            step: step, tensors: tensors,
            documents: ["state": state, "model": configuration.model, "training": configuration])
        onMessage?("checkpoint \(checkpoint.path)")
    }

    /// Restores everything ``saveCheckpoint()`` wrote.
    func restore(from checkpoint: Checkpoint) throws {
        let savedModel: BriVLConfiguration = try checkpoint.document("model")
        guard savedModel == configuration.model else {
            throw TrainingError.checkpoint(
                "\(checkpoint.path) holds a different model (\(savedModel.name)) than this run's configuration")
        }
        let state: TrainerState = try checkpoint.document("state")
        try model.load(stateDict: try checkpoint.tensors("model"))
        if let head = objective.maskedLanguageModelHead { try head.load(stateDict: try checkpoint.tensors("mlm_head")) }
        if let towers = objective.momentumTowers, let imageQueue = objective.imageQueue,
            let textQueue = objective.textQueue
        {
            try towers.load(stateDict: try checkpoint.tensors("momentum"))
            let queues = try checkpoint.tensors("queues")
            guard let imageKeys = queues["image_keys"], let textKeys = queues["text_keys"],
                let imagePosition = state.imageQueuePosition, let textPosition = state.textQueuePosition
            else { throw TrainingError.checkpoint("\(checkpoint.path) lacks the MoCo queues this objective needs") }
            try imageQueue.restore(keys: imageKeys, position: imagePosition)
            try textQueue.restore(keys: textKeys, position: textPosition)
        }
        try optimizer.importState(
            OptimizerState(tensors: try checkpoint.tensors("optimizer"), metadata: state.optimizer),
            parameterKeys: optimizerParameterKeys)
        guard let random = try checkpoint.tensors("random")["global"] else {
            throw TrainingError.checkpoint("\(checkpoint.path) lacks the random state")
        }
        try Engine.restoreRandomState(random)
        step = state.step
        cursor = state.loaderCursor
        onMessage?("resumed from \(checkpoint.path)")
    }
}
