import BriVL
import Foundation
import Torch

/// Chinese-CLIP's released checkpoints (`clip_cn_vit-b-16.pt` and its siblings): a torch.save dict whose
/// `state_dict` holds the model under `module.`-prefixed keys.
///
/// - image: an OpenAI-CLIP ViT (`visual.conv1`, `class_embedding`, `positional_embedding`, `ln_pre`,
///   `transformer.resblocks.N` with QuickGELU and fused `attn.in_proj_*`, `ln_post`, `proj` [width, embed]);
/// - text: a BERT / RoBERTa-wwm under `bert.` (Hugging Face's key names; `bert.pooler` is never used), with
///   `text_projection` [hidden, embed] applied to the [CLS] state;
/// - `logit_scale` = log 1/τ.
///
/// The architecture is read from the tensors' shapes, so every ViT size (B/32, B/16, L/14, L/14@336, H/14) and the
/// RN50 (OpenAI's ModifiedResNet: a three-convolution stem, anti-aliased bottlenecks, attention pooling `attnpool`
/// in place of `proj`; its text encoder is the 3-layer RBT3) map without a table.
public enum ChineseCLIP {
    /// Context length of Chinese-CLIP's tokenizer (`cn_clip.clip.tokenize`).
    public static let contextLength = 52

    /// Our configuration and state dict for a Chinese-CLIP state dict (prefix already stripped).
    public static func convert(
        _ source: [String: Tensor], name: String, contextLength: Int = contextLength
    ) throws -> (configuration: BriVLConfiguration, weights: [String: Tensor], ignored: [String]) {
        var keys = SourceKeys(source)
        var weights: [String: Tensor] = [:]
        let image = try CLIPVisual.imageTower(
            &keys, textKey: "bert.embeddings.word_embeddings.weight", family: "Chinese-CLIP", activation: .quickGELU,
            into: &weights)
        let bert = try bertConfiguration(&keys)
        let textProjection = try keys.shape("text_projection", rank: 2)
        guard textProjection[0] == bert.hiddenSize, textProjection[1] == image.head.outputSize else {
            throw ImportError.shapeMismatch(
                "text_projection is \(textProjection): expected [\(bert.hiddenSize), \(image.head.outputSize)] (BERT's "
                    + "hidden size, the image tower's embedding width)")
        }
        guard (2...bert.maxPositions).contains(contextLength) else {
            throw ImportError.invalidOption("context length \(contextLength) must be in 2...\(bert.maxPositions)")
        }
        let configuration = BriVLConfiguration(
            name: name, image: image,
            text: TextTowerConfiguration(
                bert: bert, head: .classToken(inputSize: bert.hiddenSize, outputSize: textProjection[1]),
                maxLength: contextLength))

        weights["text_tower.head.projection.weight"] = try keys.take("text_projection").transposed().contiguous()
        weights["logit_scale"] = try keys.take("logit_scale")
        let ignored = keys.remaining(withPrefix: "bert.pooler.")
        for key in ignored { _ = try keys.take(key) }
        for key in keys.remaining(withPrefix: "bert.") {
            weights["text_tower." + key] = try keys.take(key)
        }
        try keys.requireEmpty()
        return (configuration, weights, ignored)
    }

    /// `bert.*` shapes → the BERT (Chinese-CLIP: GELU, LayerNorm ε 1e-12, heads 64 wide).
    private static func bertConfiguration(_ keys: inout SourceKeys) throws -> BertConfiguration {
        let words = try keys.shape("bert.embeddings.word_embeddings.weight", rank: 2)
        let positions = try keys.shape("bert.embeddings.position_embeddings.weight", rank: 2)
        let types = try keys.shape("bert.embeddings.token_type_embeddings.weight", rank: 2)
        let layerCount = keys.count(of: "bert.encoder.layer.", suffix: ".attention.self.query.weight")
        guard layerCount > 0 else { throw ImportError.missingKeys(["bert.encoder.layer.0.*"]) }
        let intermediate = try keys.shape("bert.encoder.layer.0.intermediate.dense.weight", rank: 2)[0]
        let hidden = words[1]
        guard hidden % 64 == 0 else {
            throw ImportError.unsupportedArchitecture("a \(hidden)-wide BERT does not split into 64-wide heads")
        }
        return BertConfiguration(
            vocabularySize: words[0], hiddenSize: hidden, layerCount: layerCount, headCount: hidden / 64,
            intermediateSize: intermediate, hiddenActivation: .gelu, maxPositions: positions[0],
            typeVocabularySize: types[0], layerNormEps: 1e-12, hiddenDropout: 0, attentionDropout: 0)
    }

}
