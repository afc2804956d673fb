import BriVLEvaluation
import Foundation

/// Queries over an index with the model that built it: text → image, image → image, and zero-shot tagging of the
/// whole collection with a set of classes.
public final class Searcher: Sendable {
    public let index: SearchIndex
    public let embedder: any SearchEmbedder

    public init(index: SearchIndex, embedder: any SearchEmbedder) throws {
        guard index.manifest.dimension == embedder.dimension else {
            throw SearchError.index(
                path: index.directory.path,
                message: "built with \(index.manifest.dimension)-d vectors, the model gives \(embedder.dimension)")
        }
        guard index.manifest.modelIdentity == embedder.identity else {
            throw SearchError.index(
                path: index.directory.path,
                message: "built with another model (\(index.manifest.modelIdentity)) than this one (\(embedder.identity)): "
                    + "its vectors would be compared with this model's; run brivl index with this checkpoint again")
        }
        self.index = index
        self.embedder = embedder
    }

    public func search(text: String, k: Int, filter: SearchFilter = .init()) throws -> [SearchHit] {
        let query = try embedder.embedTexts([text])[0]
        return try index.search(vector: query, k: k, filter: filter)
    }

    public func search(image: Data, k: Int, filter: SearchFilter = .init()) throws -> [SearchHit] {
        switch try embedder.embedImages([image])[0] {
        case .vector(let query): return try index.search(vector: query, k: k, filter: filter)
        case .unreadable(let reason): throw SearchError.invalidArgument("the query image cannot be read: \(reason)")
        }
    }

    /// Tags every image of the collection with its most similar class.
    public func classify(_ classes: ClassPrompts) throws -> CollectionTagging {
        let classVectors = try embedder.embedClasses(prompts: classes.prompts)
        return try CollectionTagging(index: index, classes: classes, classVectors: classVectors)
    }
}

/// Zero-shot tags of a collection: for each image its best class and cosine, and how many images each class got.
public struct CollectionTagging: Sendable, Codable, Equatable {
    public struct Tag: Sendable, Codable, Equatable {
        public var path: String
        public var label: String
        public var name: String
        public var score: Float
    }

    public struct ClassCount: Sendable, Codable, Equatable {
        public var label: String
        public var name: String
        public var images: Int
    }

    public var tags: [Tag]
    public var classes: [ClassCount]

    /// - Parameter classVectors: one normalised vector per class of `classes`
    public init(index: SearchIndex, classes: ClassPrompts, classVectors: [[Float]]) throws {
        let dimension = index.manifest.dimension
        guard classVectors.count == classes.count, classVectors.allSatisfy({ $0.count == dimension }) else {
            throw SearchError.invalidArgument("one \(dimension)-d vector per class is needed")
        }
        let (ids, values) = try index.allVectors()
        let best = try ClassScoring.bestClasses(of: values, dimension: dimension, classVectors: classVectors)
        var counts = [Int](repeating: 0, count: classes.count)
        var tags: [Tag] = []
        tags.reserveCapacity(ids.count)
        for (id, (label, score)) in zip(ids, best) {
            counts[label] += 1
            tags.append(
                Tag(
                    path: index.entry(id: id)?.path ?? String(id), label: classes.labels[label],
                    name: classes.displayNames[label], score: score))
        }
        self.tags = tags.sorted { $0.path < $1.path }
        self.classes = classes.labels.indices.map {
            ClassCount(label: classes.labels[$0], name: classes.displayNames[$0], images: counts[$0])
        }
    }
}
