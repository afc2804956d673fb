import BriVL
import Tokenization
import Torch

/// Texts as the text tower takes them: token ids and attention mask, [texts, length], cut to the model's length.
/// The one place where text becomes tensors, so every caller tokenises, truncates and pads alike.
public struct TextInput {
    /// [texts, length] int64
    public let tokenIDs: Tensor
    /// [texts, length] int64, 1 on real tokens and 0 on padding
    public let attentionMask: Tensor
    /// The ids and mask as Swift arrays (for reading tokens back).
    public let encoding: BatchEncoding<Int64>

    public init(_ texts: [String], tokenizer: any TextTokenizer, maxLength: Int, device: Device = .cpu) throws {
        guard !texts.isEmpty else { throw InferenceError.invalidArgument("no texts to encode") }
        encoding = tokenizer.encodeBatch(texts, maxLength: maxLength)
        tokenIDs = try Tensor(encoding.ids, shape: encoding.shape).to(device: device)
        attentionMask = try Tensor(encoding.attentionMask, shape: encoding.shape).to(device: device)
    }

    /// The input for `model`: its text length.
    public init(_ texts: [String], for model: BriVLModel, tokenizer: any TextTokenizer, device: Device = .cpu) throws {
        try self.init(texts, tokenizer: tokenizer, maxLength: model.configuration.text.maxLength, device: device)
    }
}

extension BriVLModel {
    /// Joint-space embeddings [texts, dim] of tokenised texts; records a graph when the caller does.
    public func encodeText(_ input: TextInput) throws -> Tensor {
        try encodeText(tokenIDs: input.tokenIDs, attentionMask: input.attentionMask)
    }
}
