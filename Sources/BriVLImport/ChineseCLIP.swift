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
        guard keys.contains("visual.conv1.weight"), keys.contains("bert.embeddings.word_embeddings.weight") else {
            throw ImportError.wrongArchitecture(
                "not a Chinese-CLIP checkpoint: it lacks visual.conv1.weight or bert.embeddings.word_embeddings.weight "
                    + "(keys start with \(keys.prefixes(depth: 1).joined(separator: ", ")))")
        }
        var weights: [String: Tensor] = [:]
        let image = keys.contains(prefix: "visual.attnpool.") || keys.contains(prefix: "visual.layer1.")
            ? try resNetTower(&keys, into: &weights) : try visionTransformerTower(&keys, into: &weights)
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

    /// The ViT image tower: its configuration, and its weights moved into `weights`.
    private static func visionTransformerTower(
        _ keys: inout SourceKeys, into weights: inout [String: Tensor]
    ) throws -> ImageTowerConfiguration {
        let vit = try visionConfiguration(&keys)
        let embedding = try keys.shape("visual.proj", rank: 2)
        guard embedding[0] == vit.width else {
            throw ImportError.shapeMismatch("visual.proj is \(embedding): expected [\(vit.width), d]")
        }
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
        return ImageTowerConfiguration(vit: vit, head: .classToken(inputSize: vit.width, outputSize: embedding[1]))
    }

    /// The RN50-style image tower (OpenAI's ModifiedResNet: a deep stem, anti-aliased bottlenecks, attention
    /// pooling): its configuration read from the shapes, and its weights moved into `weights`. The ResNet's keys
    /// are already ours (`conv1`…`bn3`, `layerN.M.*`, `downsample.0/1`); `attnpool` becomes the head.
    private static func resNetTower(
        _ keys: inout SourceKeys, into weights: inout [String: Tensor]
    ) throws -> ImageTowerConfiguration {
        let stem = try keys.shape("visual.conv3.weight", rank: 4)
        let stemWidth = stem[0]
        let input = try keys.shape("visual.conv1.weight", rank: 4)
        var depths: [Int] = []
        var widths: [Int] = []
        for stage in 1...4 {
            let prefix = "visual.layer\(stage)."
            let depth = keys.count(of: prefix, suffix: ".conv1.weight")
            guard depth > 0 else { break }
            depths.append(depth)
            widths.append(try keys.shape(prefix + "0.conv1.weight", rank: 4)[0])
        }
        guard depths.count == 4 else {
            throw ImportError.missingKeys(["visual.layer\(depths.count + 1).0.*"])
        }
        let resnet = ResNetConfiguration(
            block: .bottleneck, depths: depths, widths: widths, stem: .deep, downsampling: .averagePool,
            stemWidth: stemWidth, inputChannels: input[1])
        let positions = try keys.shape("visual.attnpool.positional_embedding", rank: 2)
        let projection = try keys.shape("visual.attnpool.c_proj.weight", rank: 2)
        let cells = positions[0] - 1
        let grid = Int(Double(cells).squareRoot().rounded())
        guard grid > 0, grid * grid == cells, positions[1] == resnet.outputChannels, projection[1] == positions[1] else {
            throw ImportError.shapeMismatch(
                "visual.attnpool.positional_embedding is \(positions) and c_proj.weight \(projection): expected "
                    + "[grid² + 1, \(resnet.outputChannels)] and [d, \(resnet.outputChannels)]")
        }
        // CLIP's ModifiedResNet: heads of width 64 over the 32 × stem-width channels.
        let headWidth = 64
        guard positions[1] % headWidth == 0 else {
            throw ImportError.unsupportedArchitecture(
                "\(positions[1]) channels do not split into the attention pool's \(headWidth)-wide heads")
        }
        let configuration = ImageTowerConfiguration(
            backbone: .resnet(resnet, imageSize: grid * resnet.outputStride, pooling: .cells),
            head: .attentionPool(
                inputSize: positions[1], cellCount: cells, headCount: positions[1] / headWidth,
                outputSize: projection[0]))
        do {
            try configuration.validate()
        } catch {
            throw ImportError.unsupportedArchitecture("the ResNet read from the shapes is not one we can build: \(error)")
        }

        for key in keys.remaining(withPrefix: "visual.") where !key.hasPrefix("visual.attnpool.") {
            weights["image_tower.resnet." + key.dropFirst("visual.".count)] = try keys.take(key)
        }
        let head = "image_tower.head."
        weights[head + "positional_embedding"] = try keys.take("visual.attnpool.positional_embedding")
        for (from, to) in [("q_proj", "query"), ("k_proj", "key"), ("v_proj", "value"), ("c_proj", "output")] {
            for part in ["weight", "bias"] {
                weights[head + "\(to).\(part)"] = try keys.take("visual.attnpool.\(from).\(part)")
            }
        }
        return configuration
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
