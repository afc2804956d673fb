import BriVL
import Foundation
import Torch
import TorchNN

/// OpenCLIP's checkpoints (`open_clip_pytorch_model.bin`, a torch.save state dict, or `open_clip_model.safetensors`)
/// of the CLIP class, and OpenAI's original weights in the same layout:
///
/// - image: `visual.*`, a ViT or a ModifiedResNet exactly as Chinese-CLIP's (``CLIPVisual``);
/// - text: CLIP's causal Transformer at the top level — `token_embedding`, `positional_embedding`,
///   `transformer.resblocks.N`, `ln_final` — pooled at the end-of-text token, then `text_projection` [width, embed];
/// - `logit_scale` = log 1/τ.
///
/// The file cannot say which activation the blocks used: OpenCLIP's own configurations use GELU, OpenAI's weights
/// (and OpenCLIP's `-quickgelu` models) QuickGELU; the caller says which. Custom-text models (CoCa, HF text towers)
/// and SigLIP-style `logit_bias` are refused.
public enum OpenCLIP {
    /// OpenAI's original state dicts also hold these three integers, which describe the model, not weights.
    static let descriptiveKeys = ["input_resolution", "context_length", "vocab_size"]

    public static func convert(
        _ source: [String: Tensor], name: String, activation: Activation, contextLength: Int?
    ) throws -> (configuration: BriVLConfiguration, weights: [String: Tensor], ignored: [String]) {
        var keys = SourceKeys(source)
        if keys.contains("bert.embeddings.word_embeddings.weight") {
            throw ImportError.wrongArchitecture(
                "this checkpoint has a BERT text tower (bert.*): it looks like Chinese-CLIP's, import it with --from chinese-clip")
        }
        if keys.contains(prefix: "text.") || keys.contains("logit_bias") {
            throw ImportError.unsupportedArchitecture(
                "this OpenCLIP model has a custom text tower (text.*) or a logit bias (SigLIP): only the CLIP class "
                    + "(token_embedding, transformer, ln_final, text_projection) can be imported")
        }
        var weights: [String: Tensor] = [:]
        let image = try CLIPVisual.imageTower(
            &keys, textKey: "token_embedding.weight", family: "OpenCLIP", activation: activation, into: &weights)

        let text = try textConfiguration(&keys, activation: activation)
        let projection = try keys.shape("text_projection", rank: 2)
        guard projection[0] == text.width, projection[1] == image.head.outputSize else {
            throw ImportError.shapeMismatch(
                "text_projection is \(projection): expected [\(text.width), \(image.head.outputSize)] (the text width, "
                    + "the image tower's embedding width)")
        }
        let length = contextLength ?? text.positions
        guard (2...text.positions).contains(length) else {
            throw ImportError.invalidOption("context length \(length) must be in 2...\(text.positions)")
        }
        let configuration = BriVLConfiguration(
            name: name, image: image,
            text: TextTowerConfiguration(
                encoder: .causal(text), head: .endToken(inputSize: text.width, outputSize: projection[1]),
                maxLength: length))

        let prefix = "text_tower.causal."
        weights[prefix + "token_embedding.weight"] = try keys.take("token_embedding.weight")
        weights[prefix + "positional_embedding"] = try keys.take("positional_embedding")
        try CLIPVisual.residualBlocks(
            &keys, from: "transformer.resblocks.", to: prefix + "transformer.layers.", count: text.layerCount,
            width: text.width, into: &weights)
        for part in ["weight", "bias"] {
            weights[prefix + "transformer.final_norm.\(part)"] = try keys.take("ln_final.\(part)")
        }
        weights["text_tower.head.projection.weight"] = try keys.take("text_projection").transposed().contiguous()
        weights["logit_scale"] = try keys.take("logit_scale")
        // The causal mask is rebuilt from the shape; older files persisted it.
        let ignored = (descriptiveKeys + ["attn_mask"]).filter { keys.contains($0) }
        for key in ignored { _ = try keys.take(key) }
        try keys.requireEmpty()
        return (configuration, weights, ignored)
    }

    /// The text Transformer from its shapes (heads 64 wide, as OpenCLIP's configurations have them).
    private static func textConfiguration(_ keys: inout SourceKeys, activation: Activation) throws -> CausalTextConfiguration {
        let tokens = try keys.shape("token_embedding.weight", rank: 2)
        let positions = try keys.shape("positional_embedding", rank: 2)
        guard positions[1] == tokens[1] else {
            throw ImportError.shapeMismatch(
                "positional_embedding is \(positions) but token_embedding.weight \(tokens): their widths must agree")
        }
        let layerCount = keys.count(of: "transformer.resblocks.", suffix: ".ln_1.weight")
        guard layerCount > 0 else { throw ImportError.missingKeys(["transformer.resblocks.0.*"]) }
        let width = tokens[1]
        guard width % 64 == 0 else {
            throw ImportError.unsupportedArchitecture("a \(width)-wide text Transformer does not split into 64-wide heads")
        }
        let configuration = CausalTextConfiguration(
            vocabularySize: tokens[0], positions: positions[0], width: width, layerCount: layerCount,
            headCount: width / 64,
            feedForwardSize: try keys.shape("transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0],
            activation: activation)
        do {
            try configuration.validate()
        } catch {
            throw ImportError.unsupportedArchitecture("the text Transformer read from the shapes cannot be built: \(error)")
        }
        return configuration
    }
}
