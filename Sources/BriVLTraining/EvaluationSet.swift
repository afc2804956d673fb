import BriVL
import BriVLData
import BriVLInference
import Foundation
import Imaging
import Tokenization
import Torch
import TorchNN

/// Held-out pairs loaded once (evaluation preprocessing, first caption) and kept in memory, so every validation
/// scores exactly the same pairs.
public struct EvaluationSet {
    /// [n, 3, size, size]
    public var images: Tensor
    public var tokenIDs: Tensor
    public var attentionMask: Tensor
    public var keys: [String]
    /// Samples the loader skipped as unreadable (counted, never silently lost).
    public var skipped: Int

    public var count: Int { keys.count }

    /// Loads up to `limit` pairs from the shards in `directory`, in shard order.
    public static func load(
        directory: String, limit: Int, imageSize: Int, maxTextLength: Int, tokenizer: BertTokenizer
    ) throws -> EvaluationSet {
        var loaderConfiguration = LoaderConfiguration(shards: try LoaderConfiguration.discoverShards(in: directory))
        loaderConfiguration.batchSize = Swift.min(256, limit)
        loaderConfiguration.shuffle = false
        loaderConfiguration.dropLast = false
        loaderConfiguration.epochs = 1
        loaderConfiguration.imageSize = imageSize
        loaderConfiguration.maxTextLength = maxTextLength
        loaderConfiguration.caption = .first
        loaderConfiguration.workerThreads = 1
        let loader = try DataLoader(
            configuration: loaderConfiguration, decoder: try ImagingSampleDecoder.evaluation(size: imageSize),
            tokenizer: tokenizer)
        defer { loader.close() }
        var images: [Tensor] = []
        var ids: [Tensor] = []
        var masks: [Tensor] = []
        var keys: [String] = []
        while keys.count < limit, let batch = try loader.next() {
            let take = Swift.min(batch.count, limit - keys.count)
            images.append(try batch.images.narrowed(dimension: 0, start: 0, length: take))
            ids.append(try batch.tokenIDs.narrowed(dimension: 0, start: 0, length: take))
            masks.append(try batch.attentionMask.narrowed(dimension: 0, start: 0, length: take))
            keys.append(contentsOf: batch.keys.prefix(take))
        }
        guard !keys.isEmpty else { throw TrainingError.data("no usable pairs in \(directory)") }
        let statistics = loader.statistics
        return EvaluationSet(
            images: try Tensor.cat(images), tokenIDs: try Tensor.cat(ids), attentionMask: try Tensor.cat(masks),
            keys: keys, skipped: statistics.skipped.values.reduce(0, +))
    }

    /// Embeddings of every image and caption, in chunks, without a graph, in evaluation mode.
    public func embed(with model: BriVLModel, chunk: Int = 256) throws -> (images: Tensor, texts: Tensor) {
        let texts = try embedChunks(model: model, chunk: chunk) { start, length in
            try model.encodeText(
                tokenIDs: tokenIDs.narrowed(dimension: 0, start: start, length: length),
                attentionMask: attentionMask.narrowed(dimension: 0, start: start, length: length))
        }
        return (try embedImages(with: model, chunk: chunk), texts)
    }

    /// Embeddings of every image only (zero-shot classification needs no captions).
    public func embedImages(with model: BriVLModel, chunk: Int = 256) throws -> Tensor {
        try embedChunks(model: model, chunk: chunk) { start, length in
            try model.encodeImage(images.narrowed(dimension: 0, start: start, length: length))
        }
    }

    private func embedChunks(model: BriVLModel, chunk: Int, _ encode: (Int, Int) throws -> Tensor) throws -> Tensor {
        try model.withEvaluationMode {
            try withNoGrad {
                try Tensor.cat(stride(from: 0, to: count, by: chunk).map { try encode($0, Swift.min(chunk, count - $0)) })
            }
        }
    }
}

/// Single-item images with their class, and the prompts of every class: zero-shot classification's test set.
public struct ZeroShotSet {
    public var images: EvaluationSet
    /// The class index of each image, in `images` order.
    public var labels: [Int]
    public var classNames: [String]
    /// For each class, its Chinese and English prompts.
    public var prompts: [[String]]

    /// Loads the zero-shot shards (each sample's `label` metadata is its class index) and the class list.
    public static func load(
        directory: String, classesFile: String, limit: Int, imageSize: Int, maxTextLength: Int,
        tokenizer: BertTokenizer
    ) throws -> ZeroShotSet {
        let classes = try ZeroShotClassList.read(from: classesFile)
        var labelsByKey: [String: Int] = [:]
        for path in try LoaderConfiguration.discoverShards(in: directory) {
            for sample in try ShardReader(path: path) {
                guard let record = try? CaptionReader.record(of: sample).get(),
                    let label = record.metadata?["label"].flatMap(Int.init)
                else { continue }
                labelsByKey[sample.key] = label
            }
        }
        let images = try EvaluationSet.load(
            directory: directory, limit: limit, imageSize: imageSize, maxTextLength: maxTextLength,
            tokenizer: tokenizer)
        let labels = try images.keys.map { key -> Int in
            guard let label = labelsByKey[key], classes.classes.indices.contains(label) else {
                throw TrainingError.data("zero-shot sample \(key) has no valid class label")
            }
            return label
        }
        let prompts = classes.classes.indices.map { label in
            let (chinese, english) = classes.prompts(for: label)
            return chinese + english
        }
        return ZeroShotSet(
            images: images, labels: labels, classNames: classes.classes.map(\.chinese), prompts: prompts)
    }

    /// Top-1 accuracy of the model's zero-shot predictions.
    public func accuracy(of model: BriVLModel, tokenizer: BertTokenizer) throws -> Double {
        let classifier = try ZeroShotClassifier(
            model: model, tokenizer: tokenizer, classNames: classNames, prompts: prompts)
        let embeddings = try images.embedImages(with: model)
        let predictions = try classifier.predict(imageEmbeddings: embeddings)
        let correct = zip(predictions, labels).filter { $0 == $1 }.count
        return Double(correct) / Double(labels.count)
    }
}
