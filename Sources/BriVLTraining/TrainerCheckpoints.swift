import BriVL
import BriVLData
import BriVLInference
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
    /// Data-parallel runs: the number of ranks, where their batches came from, and, when each rank read its own
    /// share of the shards, every rank's cursor (``loaderCursor`` is then rank 0's).
    var worldSize: Int?
    var rankData: DataParallelism.RankData?
    var rankCursors: [LoaderCursor]?

    enum CodingKeys: String, CodingKey {
        case step
        case worldSize = "world_size"
        case rankData = "rank_data"
        case rankCursors = "rank_cursors"
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
    /// loader cursor, and the model and training configurations. In a data-parallel run every rank calls it (the
    /// sharded optimizer state and the ranks' cursors are collected), and rank 0 writes.
    func saveCheckpoint() throws {
        let optimizerState = try optimizer.exportState(parameterKeys: optimizerParameterKeys)
        let rankCursors = try gatherRankCursors()
        savedStep = step
        guard isPrimary else { return }
        var tensors: [String: [String: Tensor]] = [
            "model": Dictionary(uniqueKeysWithValues: model.stateDict()),
            "random": ["global": try Engine.randomState(), "dropout": try dropoutGenerator.state()],
        ]
        if let head = objective.maskedLanguageModelHead {
            tensors["mlm_head"] = Dictionary(uniqueKeysWithValues: head.stateDict())
        }
        let contrast = objective.contrast.checkpoint()
        tensors.merge(contrast.tensors) { own, _ in own }
        tensors["optimizer"] = optimizerState.tensors
        let state = TrainerState(
            step: step, loaderCursor: cursor, imageQueuePosition: contrast.queuePositions?.image,
            textQueuePosition: contrast.queuePositions?.text, optimizer: optimizerState.metadata,
            worldSize: parallelism?.worldSize, rankData: parallelism?.rankData, rankCursors: rankCursors)
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
        try restoreContrast(from: checkpoint, state: state)
        try optimizer.importState(
            OptimizerState(tensors: try checkpoint.tensors("optimizer"), metadata: state.optimizer),
            parameterKeys: optimizerParameterKeys)
        let random = try checkpoint.tensors("random")
        guard let global = random["global"] else {
            throw TrainingError.checkpoint("\(checkpoint.path) lacks the random state")
        }
        try Engine.restoreRandomState(global)
        // Checkpoints of earlier versions drew dropout from the global generator and have no dropout state.
        if let dropout = random["dropout"] { try dropoutGenerator.restore(dropout) }
        step = state.step
        savedStep = state.step
        cursor = try resumedCursor(state)
        if isPrimary { onMessage?("resumed from \(checkpoint.path)") }
    }

    /// The momentum towers and queues, for a contrast that keeps them; the parts it needs must be there.
    private func restoreContrast(from checkpoint: Checkpoint, state: TrainerState) throws {
        var saved = ContrastCheckpoint()
        for group in ["momentum", "queues"] where checkpoint.tensorGroups.contains(group) {
            saved.tensors[group] = try checkpoint.tensors(group)
        }
        if let image = state.imageQueuePosition, let text = state.textQueuePosition {
            saved.queuePositions = (image, text)
        }
        do {
            try objective.contrast.restore(saved)
        } catch let error as ModelError {
            throw TrainingError.checkpoint("\(checkpoint.path): \(error)")
        }
    }

    /// Where this rank's loader continues. Global batches (and single processes) share one cursor, valid for any
    /// world size. Ranks that read their own shares resume their own cursors under the same world size; under
    /// another world size the shares change, so the data starts again at the next epoch.
    private func resumedCursor(_ state: TrainerState) throws -> LoaderCursor? {
        let world = parallelism?.worldSize ?? 1
        let rankData = parallelism?.rankData ?? .global
        let savedWorld = state.worldSize ?? 1
        let savedShares = savedWorld > 1 && (state.rankData ?? .global) == .shards
        if rankData == .global || world == 1 {
            guard !savedShares else { return nil }
            return state.loaderCursor
        }
        if savedShares, savedWorld == world, let cursors = state.rankCursors, cursors.count == world {
            return cursors[parallelism!.rank]
        }
        let epoch = (state.rankCursors ?? []).map(\.epoch).max() ?? state.loaderCursor?.epoch ?? 0
        if isPrimary {
            onMessage?(
                "the checkpoint's data position belongs to \(savedWorld) rank(s) reading "
                    + "\((state.rankData ?? .global).rawValue) data; this run's \(world) ranks start epoch \(epoch + 1) afresh")
        }
        let fingerprint = try makeLoaderConfiguration().planFingerprint
        return LoaderCursor(epoch: epoch + 1, position: 0, samplesYielded: 0, batchesYielded: 0, planFingerprint: fingerprint)
    }

    /// Every rank's loader cursor, for ranks that read their own shares; nil otherwise.
    private func gatherRankCursors() throws -> [LoaderCursor]? {
        guard let parallelism, parallelism.worldSize > 1, parallelism.rankData == .shards else { return nil }
        let own = try cursor ?? .start(of: makeLoaderConfiguration())
        let local = try Tensor(
            [own.epoch, own.position, own.samplesYielded, own.batchesYielded].map(Int64.init), shape: [1, 4])
        let all = try parallelism.group.allGather(local).toArray(Int64.self).map(Int.init)
        var configuration = try makeLoaderConfiguration()
        return (0..<parallelism.worldSize).map { rank in
            configuration.rank = rank
            let row = Array(all[rank * 4..<rank * 4 + 4])
            return LoaderCursor(
                epoch: row[0], position: row[1], samplesYielded: row[2], batchesYielded: row[3],
                planFingerprint: configuration.planFingerprint)
        }
    }
}
