import BriVL
import Torch
import TorchNN

/// The image towers of OpenAI CLIP's layout, which Chinese-CLIP and OpenCLIP keep (`visual.*`): the ViT
/// (`conv1`, `class_embedding`, `positional_embedding`, `ln_pre`, `transformer.resblocks.N` with fused
/// `attn.in_proj_*`, `ln_post`, `proj`) and the ModifiedResNet (`conv1`…`bn3`, `layerN.M.*`, `attnpool`), read from
/// the tensors' shapes and moved to our keys.
enum CLIPVisual {
    /// The image tower of a `family` checkpoint, a ModifiedResNet (`visual.attnpool`, `visual.layer1`) or a ViT with
    /// `activation`; the file must hold `visual.conv1.weight` and the text tower's `textKey`, else it is not one.
    static func imageTower(
        _ keys: inout SourceKeys, textKey: String, family: String, activation: Activation,
        into weights: inout [String: Tensor]
    ) throws -> ImageTowerConfiguration {
        guard keys.contains("visual.conv1.weight"), keys.contains(textKey) else {
            throw ImportError.wrongArchitecture(
                "not a \(family) checkpoint: it lacks visual.conv1.weight or \(textKey) "
                    + "(keys start with \(keys.prefixes(depth: 1).joined(separator: ", ")))")
        }
        if keys.contains(prefix: "visual.attnpool.") || keys.contains(prefix: "visual.layer1.") {
            return try resNetTower(&keys, into: &weights)
        }
        return try visionTransformerTower(&keys, activation: activation, into: &weights)
    }

    /// The ViT image tower: its configuration, and its weights moved into `weights`.
    static func visionTransformerTower(
        _ keys: inout SourceKeys, activation: Activation, into weights: inout [String: Tensor]
    ) throws -> ImageTowerConfiguration {
        let vit = try visionConfiguration(&keys, activation: activation)
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
        try residualBlocks(
            &keys, from: "visual.transformer.resblocks.", to: vitPrefix + "transformer.layers.", count: vit.layerCount,
            width: vit.width, into: &weights)
        weights["image_tower.head.projection.weight"] = try keys.take("visual.proj").transposed().contiguous()
        return ImageTowerConfiguration(vit: vit, head: .classToken(inputSize: vit.width, outputSize: embedding[1]))
    }

    /// The RN50-style image tower (OpenAI's ModifiedResNet: a deep stem, anti-aliased bottlenecks, attention
    /// pooling): its configuration read from the shapes, and its weights moved into `weights`. The ResNet's keys
    /// are already ours (`conv1`…`bn3`, `layerN.M.*`, `downsample.0/1`); `attnpool` becomes the head.
    static func resNetTower(
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
    private static func visionConfiguration(
        _ keys: inout SourceKeys, activation: Activation
    ) throws -> VisionTransformerConfiguration {
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
            activation: activation)
        try configuration.validate()
        return configuration
    }

    /// CLIP's pre-norm blocks `from<N>.{ln_1, attn, ln_2, mlp.c_fc, mlp.c_proj}` → our encoder layers
    /// `to<N>.{norm1, self_attention, norm2, linear1, linear2}` (the fused attention split).
    static func residualBlocks(
        _ keys: inout SourceKeys, from: String, to: String, count: Int, width: Int, into weights: inout [String: Tensor]
    ) throws {
        for layer in 0..<count {
            let (source, target) = (from + "\(layer).", to + "\(layer).")
            try splitAttention(&keys, from: source + "attn.", to: target + "self_attention.", width: width, into: &weights)
            for part in ["weight", "bias"] {
                weights[target + "self_attention.output.\(part)"] = try keys.take(source + "attn.out_proj.\(part)")
                weights[target + "norm1.\(part)"] = try keys.take(source + "ln_1.\(part)")
                weights[target + "norm2.\(part)"] = try keys.take(source + "ln_2.\(part)")
                weights[target + "linear1.\(part)"] = try keys.take(source + "mlp.c_fc.\(part)")
                weights[target + "linear2.\(part)"] = try keys.take(source + "mlp.c_proj.\(part)")
            }
        }
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
