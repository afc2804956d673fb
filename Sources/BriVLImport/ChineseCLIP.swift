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
/// The architecture is read from the tensors' shapes, so every ViT size (B/32, B/16, L/14, L/14@336, H/14) maps
/// without a table. The RN50 variant (ModifiedResNet with attention pooling) is recognised and refused.
public enum ChineseCLIP {
    /// Context length of Chinese-CLIP's tokenizer (`cn_clip.clip.tokenize`).
    public static let contextLength = 52

    /// Our configuration and state dict for a Chinese-CLIP state dict (prefix already stripped).
    public static func convert(
        _ source: [String: Tensor], name: String, contextLength: Int = contextLength
    ) throws -> (configuration: BriVLConfiguration, weights: [String: Tensor], ignored: [String]) {
        var keys = SourceKeys(source)
        if keys.contains(prefix: "visual.attnpool.") || keys.contains(prefix: "visual.layer1.") {
            throw ImportError.unsupportedArchitecture(
                "this is Chinese-CLIP's RN50 (a ModifiedResNet with attention pooling), which cannot be imported yet; "
                    + "the ViT checkpoints (ViT-B/16, ViT-L/14, ViT-H/14) can")
        }
        guard keys.contains("visual.conv1.weight"), keys.contains("bert.embeddings.word_embeddings.weight") else {
            throw ImportError.wrongArchitecture(
                "not a Chinese-CLIP checkpoint: it lacks visual.conv1.weight or bert.embeddings.word_embeddings.weight "
                    + "(keys start with \(keys.prefixes(depth: 1).joined(separator: ", ")))")
        }
        let vit = try visionConfiguration(&keys)
        let embedding = try keys.shape("visual.proj", rank: 2)
        let bert = try bertConfiguration(&keys)
        let textProjection = try keys.shape("text_projection", rank: 2)
        guard embedding[0] == vit.width, textProjection[0] == bert.hiddenSize, embedding[1] == textProjection[1] else {
            throw ImportError.shapeMismatch(
                "visual.proj is \(embedding) and text_projection \(textProjection): expected [\(vit.width), d] and "
                    + "[\(bert.hiddenSize), d] with the same d")
        }
        guard (2...bert.maxPositions).contains(contextLength) else {
            throw ImportError.invalidOption("context length \(contextLength) must be in 2...\(bert.maxPositions)")
        }
        let configuration = BriVLConfiguration(
            name: name,
            image: ImageTowerConfiguration(
                vit: vit, head: .classToken(inputSize: vit.width, outputSize: embedding[1])),
            text: TextTowerConfiguration(
                bert: bert, head: .classToken(inputSize: bert.hiddenSize, outputSize: embedding[1]),
                maxLength: contextLength))

        var weights: [String: Tensor] = [:]
        let vitPrefix = "image_tower.vit."
        weights[vitPrefix + "conv1.weight"] = try keys.take("visual.conv1.weight")
        weights[vitPrefix + "class_embedding"] = try keys.take("visual.class_embedding")
        weights[vitPrefix + "positional_embedding"] = try keys.take("visual.positional_embedding")
        for part in ["weight", "bias"] {
            weights[vitPrefix + "ln_pre.\(part)"] = try keys.take("visual.ln_pre.\(part)")
            // ln_post normalises the class token; the encoder's final norm does the same to every token.
            weights[vitPrefix + "transformer.final_norm.\(part)"] = try keys.take("visual.ln_post.\(part)")
        }
        for layer in 0..<vit.layerCount {
            let from = "visual.transformer.resblocks.\(layer)."
            let to = vitPrefix + "transformer.layers.\(layer)."
            try splitAttention(&keys, from: from + "attn.", to: to + "self_attention.", width: vit.width, into: &weights)
            for part in ["weight", "bias"] {
                weights[to + "self_attention.output.\(part)"] = try keys.take(from + "attn.out_proj.\(part)")
                weights[to + "norm1.\(part)"] = try keys.take(from + "ln_1.\(part)")
                weights[to + "norm2.\(part)"] = try keys.take(from + "ln_2.\(part)")
                weights[to + "linear1.\(part)"] = try keys.take(from + "mlp.c_fc.\(part)")
                weights[to + "linear2.\(part)"] = try keys.take(from + "mlp.c_proj.\(part)")
            }
        }
        weights["image_tower.head.projection.weight"] = try keys.take("visual.proj").transposed().contiguous()
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

    /// `visual.*` shapes → the ViT. Heads are width / 64, except ViT-H/14's 1280-wide blocks (head width 80).
    private static func visionConfiguration(_ keys: inout SourceKeys) throws -> VisionTransformerConfiguration {
        let patch = try keys.shape("visual.conv1.weight", rank: 4)
        guard patch[2] == patch[3] else { throw ImportError.shapeMismatch("visual.conv1.weight \(patch) is not square") }
        let width = patch[0]
        let tokens = try keys.shape("visual.positional_embedding", rank: 2)
        let grid = Int(Double(tokens[0] - 1).squareRoot().rounded())
        guard tokens[1] == width, grid * grid + 1 == tokens[0] else {
            throw ImportError.shapeMismatch(
                "visual.positional_embedding is \(tokens): expected [grid² + 1, \(width)] for a square grid of patches")
        }
        let layerCount = keys.count(of: "visual.transformer.resblocks.", suffix: ".ln_1.weight")
        guard layerCount > 0 else { throw ImportError.missingKeys(["visual.transformer.resblocks.0.*"]) }
        let feedForward = try keys.shape("visual.transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0]
        let headWidth = width == 1280 ? 80 : 64
        guard width % headWidth == 0 else {
            throw ImportError.unsupportedArchitecture("a \(width)-wide ViT does not split into \(headWidth)-wide heads")
        }
        let configuration = VisionTransformerConfiguration(
            imageSize: grid * patch[2], patchSize: patch[2], width: width, layerCount: layerCount,
            headCount: width / headWidth, mlpRatio: Double(feedForward) / Double(width), inputChannels: patch[1],
            activation: .quickGELU)
        try configuration.validate()
        return configuration
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

    /// CLIP's fused `in_proj_weight` [3·width, width] and `in_proj_bias` [3·width] → query, key, value.
    private static func splitAttention(
        _ keys: inout SourceKeys, from: String, to: String, width: Int, into weights: inout [String: Tensor]
    ) throws {
        let weight = try keys.take(from + "in_proj_weight")
        let bias = try keys.take(from + "in_proj_bias")
        guard weight.shape == [3 * width, width], bias.shape == [3 * width] else {
            throw ImportError.shapeMismatch(
                "\(from)in_proj_weight is \(weight.shape) and in_proj_bias \(bias.shape): expected [\(3 * width), \(width)] "
                    + "and [\(3 * width)]")
        }
        for (index, name) in ["query", "key", "value"].enumerated() {
            weights[to + "\(name).weight"] = try weight.narrowed(dimension: 0, start: index * width, length: width)
            weights[to + "\(name).bias"] = try bias.narrowed(dimension: 0, start: index * width, length: width)
        }
    }
}
