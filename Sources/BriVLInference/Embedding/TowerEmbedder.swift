import BriVL
import Tokenization
import Torch
import TorchNN

/// Runs a model's towers over many inputs for inference and evaluation: in batches, in evaluation mode (no
/// dropout, batch-norm running statistics), without building a graph. Every module's mode is put back afterwards.
public struct TowerEmbedder {
    public let model: BriVLModel
    public let tokenizer: any TextTokenizer
    /// Inputs per forward pass.
    public var batchSize: Int
    /// Where the inputs are moved before a pass: the model's device.
    public var device: Device

    public init(model: BriVLModel, tokenizer: any TextTokenizer, batchSize: Int = 128, device: Device = .cpu) {
        self.model = model
        self.tokenizer = tokenizer
        self.batchSize = Swift.max(1, batchSize)
        self.device = device
    }

    /// Texts → [n, dim] L2-normalised embeddings, truncated to the model's text length.
    public func embedTexts(_ texts: [String]) throws -> Tensor {
        guard !texts.isEmpty else { throw InferenceError.invalidArgument("no texts to embed") }
        return try inBatches(count: texts.count) { start, count in
            try model.encodeText(
                TextInput(Array(texts[start..<start + count]), for: model, tokenizer: tokenizer, device: device))
        }
    }

    /// [n, 3, size, size] preprocessed images → [n, dim] L2-normalised embeddings.
    public func embedImages(_ images: Tensor) throws -> Tensor {
        try inBatches(count: images.size(0)) { start, length in
            try model.encodeImage(images.narrowed(dimension: 0, start: start, length: length).to(device: device))
        }
    }

    /// The image tower's vectors before its head ([n, count, width]); with a frozen backbone they can be computed
    /// once and the head trained on them.
    public func imageFeatures(_ images: Tensor) throws -> Tensor {
        try inBatches(count: images.size(0)) { start, length in
            try model.imageTower.features(images.narrowed(dimension: 0, start: start, length: length).to(device: device))
        }
    }

    /// One embedding per class: the normalised mean of its prompts' embeddings (CLIP's prompt ensembling), each
    /// class's prompts in one pass. Returns [classes, dim].
    public func embedClasses(prompts classPrompts: [[String]]) throws -> Tensor {
        guard !classPrompts.isEmpty, classPrompts.allSatisfy({ !$0.isEmpty }) else {
            throw InferenceError.invalidArgument("every class needs at least one prompt")
        }
        let embeddings = try model.withEvaluationMode {
            try withNoGrad {
                try classPrompts.map { prompts in
                    let texts = try model.encodeText(TextInput(prompts, for: model, tokenizer: tokenizer, device: device))
                    return try Functional.normalize(texts.mean(dimension: 0), dimension: 0)
                }
            }
        }
        return try Tensor.stack(embeddings)
    }

    private func inBatches(count: Int, _ encode: (Int, Int) throws -> Tensor) throws -> Tensor {
        guard count > 0 else { throw InferenceError.invalidArgument("nothing to embed") }
        return try model.withEvaluationMode {
            try withNoGrad {
                try Tensor.cat(
                    stride(from: 0, to: count, by: batchSize).map { try encode($0, Swift.min(batchSize, count - $0)) })
            }
        }
    }
}
