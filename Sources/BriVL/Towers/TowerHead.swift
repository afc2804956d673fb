import Torch
import TorchNN

/// How a tower turns its set of vectors (image regions, ViT tokens, text tokens) into the joint embedding.
public enum TowerHeadConfiguration: Sendable, Equatable {
    /// BriVL's: a small Transformer over the whole set, a masked mean, an MLP projection.
    case set(EmbeddingHeadConfiguration)
    /// CLIP's: the first vector alone (a ViT's class token, BERT's [CLS]) through a bias-free linear projection.
    /// Chinese-CLIP and OpenCLIP towers end this way (their `proj` and `text_projection`).
    case classToken(inputSize: Int, outputSize: Int)
    /// The last real vector (CLIP's end-of-text token, the state that saw the whole causal text) through a
    /// bias-free linear projection (OpenCLIP's `text_projection`).
    case endToken(inputSize: Int, outputSize: Int)
    /// CLIP's ResNet head: the mean of a feature map's `cellCount` cells queries them by `headCount`-head attention
    /// (learned positions), then a projection to `outputSize` (Chinese-CLIP's and OpenCLIP's RN50 `attnpool`).
    case attentionPool(inputSize: Int, cellCount: Int, headCount: Int, outputSize: Int)

    /// Width of the vectors the head reads.
    public var inputSize: Int {
        switch self {
        case .set(let head): head.inputSize
        case .classToken(let inputSize, _), .endToken(let inputSize, _): inputSize
        case .attentionPool(let inputSize, _, _, _): inputSize
        }
    }

    /// The joint embedding width.
    public var outputSize: Int {
        switch self {
        case .set(let head): head.outputSize
        case .classToken(_, let outputSize), .endToken(_, let outputSize): outputSize
        case .attentionPool(_, _, _, let outputSize): outputSize
        }
    }

    public func validate() throws {
        switch self {
        case .set(let head):
            guard !head.projectionSizes.isEmpty else {
                throw ModelError.invalidConfiguration("the projection needs at least one layer size")
            }
        case .classToken(let inputSize, let outputSize), .endToken(let inputSize, let outputSize):
            guard inputSize > 0, outputSize > 0 else {
                throw ModelError.invalidConfiguration("a token head needs positive widths, got \(inputSize) → \(outputSize)")
            }
        case .attentionPool(let inputSize, let cellCount, let headCount, let outputSize):
            guard inputSize > 0, cellCount > 0, outputSize > 0, headCount > 0, inputSize % headCount == 0 else {
                throw ModelError.invalidConfiguration(
                    "an attention-pool head needs positive sizes and a head count that divides its width, got width "
                        + "\(inputSize), \(cellCount) cells, \(headCount) heads, output \(outputSize)")
            }
        }
    }
}

/// A set head is written as the flat object every earlier checkpoint holds; a class-token head is
/// `{"kind": "class_token", "input_size": …, "output_size": …}`; an attention-pool head adds `cells` and `heads`.
extension TowerHeadConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case kind
        case inputSize = "input_size"
        case outputSize = "output_size"
        case cellCount = "cells"
        case headCount = "heads"
    }

    enum Kind: String, Codable {
        case classToken = "class_token"
        case endToken = "end_token"
        case attentionPool = "attention_pool"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let kind = try container.decodeIfPresent(Kind.self, forKey: .kind) {
            switch kind {
            case .classToken, .endToken:
                let (inputSize, outputSize) = (
                    try container.decode(Int.self, forKey: .inputSize), try container.decode(Int.self, forKey: .outputSize)
                )
                self = kind == .classToken
                    ? .classToken(inputSize: inputSize, outputSize: outputSize)
                    : .endToken(inputSize: inputSize, outputSize: outputSize)
            case .attentionPool:
                self = .attentionPool(
                    inputSize: try container.decode(Int.self, forKey: .inputSize),
                    cellCount: try container.decode(Int.self, forKey: .cellCount),
                    headCount: try container.decode(Int.self, forKey: .headCount),
                    outputSize: try container.decode(Int.self, forKey: .outputSize))
            }
        } else {
            self = .set(try EmbeddingHeadConfiguration(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .set(let head):
            try head.encode(to: encoder)
        case .classToken(let inputSize, let outputSize), .endToken(let inputSize, let outputSize):
            var container = encoder.container(keyedBy: CodingKeys.self)
            if case .classToken = self {
                try container.encode(Kind.classToken, forKey: .kind)
            } else {
                try container.encode(Kind.endToken, forKey: .kind)
            }
            try container.encode(inputSize, forKey: .inputSize)
            try container.encode(outputSize, forKey: .outputSize)
        case .attentionPool(let inputSize, let cellCount, let headCount, let outputSize):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Kind.attentionPool, forKey: .kind)
            try container.encode(inputSize, forKey: .inputSize)
            try container.encode(cellCount, forKey: .cellCount)
            try container.encode(headCount, forKey: .headCount)
            try container.encode(outputSize, forKey: .outputSize)
        }
    }
}

/// The module a tower ends with: a set of vectors in, one L2-normalised embedding per sample out.
public protocol TowerHead: Module {
    /// - Parameters:
    ///   - vectors: [batch, count, inputSize]
    ///   - paddingMask: [batch, count] bool, true at padding positions (nil when every position is real)
    /// - Returns: [batch, outputSize], L2-normalised
    func callAsFunction(_ vectors: Tensor, paddingMask: Tensor?) throws -> Tensor
}

extension TowerHead {
    public func callAsFunction(_ vectors: Tensor) throws -> Tensor { try self(vectors, paddingMask: nil) }
}

/// The head `configuration` describes.
public func makeTowerHead(_ configuration: TowerHeadConfiguration, generator: Generator? = nil) throws -> any TowerHead {
    try configuration.validate()
    switch configuration {
    case .set(let head): return try EmbeddingHead(head, generator: generator)
    case .classToken(let inputSize, let outputSize):
        return try ClassTokenHead(inputSize: inputSize, outputSize: outputSize, generator: generator)
    case .endToken(let inputSize, let outputSize):
        return try ClassTokenHead(inputSize: inputSize, outputSize: outputSize, token: .lastReal, generator: generator)
    case .attentionPool(let inputSize, let cellCount, let headCount, let outputSize):
        return try AttentionPoolHead(
            inputSize: inputSize, cellCount: cellCount, headCount: headCount, outputSize: outputSize,
            generator: generator)
    }
}

/// CLIP's heads: one vector of the set, projected without bias, L2-normalised: the first (a ViT's class token,
/// BERT's [CLS]) or the last real one (the end-of-text token of CLIP's causal text Transformer). The vector must
/// already be final (a ViT's `ln_post` and CLIP's `ln_final` are their encoders' final norms here).
public final class ClassTokenHead: Module, TowerHead {
    /// Which vector of the set is projected.
    public enum Token: Sendable {
        case first
        /// The last position the padding mask leaves (the last of all without a mask).
        case lastReal
    }

    /// weight [outputSize, inputSize]: the transpose of CLIP's `proj` / `text_projection` ([width, embed]).
    public let projection: Linear
    public let token: Token

    public init(inputSize: Int, outputSize: Int, token: Token = .first, generator: Generator? = nil) throws {
        projection = try Linear(inputSize, outputSize, bias: false, generator: generator)
        self.token = token
    }

    public func callAsFunction(_ vectors: Tensor, paddingMask: Tensor?) throws -> Tensor {
        guard vectors.rank == 3, vectors.size(1) >= 1 else {
            throw ModelError.invalidInput("a token head takes [batch, count ≥ 1, width] vectors, got \(vectors.shape)")
        }
        let selected: Tensor
        switch token {
        case .first:
            selected = try vectors.narrowed(dimension: 1, start: 0, length: 1).squeezed(1)
        case .lastReal:
            let (batch, count, width) = (vectors.size(0), vectors.size(1), vectors.size(2))
            let last: Tensor
            if let paddingMask {
                let lengths = try paddingMask.logicalNot().to(dtype: .int64).sum(dimension: 1)
                guard try lengths.min().itemInt() >= 1 else {
                    throw ModelError.invalidInput("an end-token head needs at least one real vector per row")
                }
                last = try lengths - 1
            } else {
                last = try Tensor.full([batch], Int64(count - 1), dtype: .int64, device: vectors.device)
            }
            let index = try last.reshaped([batch, 1, 1]).expanded(to: [batch, 1, width])
            selected = try vectors.gather(dimension: 1, index: index).squeezed(1)
        }
        return try Functional.normalize(projection(selected), dimension: 1)
    }
}
