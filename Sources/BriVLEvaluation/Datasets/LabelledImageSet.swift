import BriVLData
import Foundation
import Imaging
import Torch

/// Images with a class each, preprocessed for a model and held in memory: the test set of zero-shot
/// classification and linear probes.
///
/// Three layouts are read:
/// - a folder of WebDataset shards whose samples carry their class in the caption record's `label` metadata (the
///   caption corpus's `zero-shot/` split);
/// - a list file, one `image path<TAB>class label` per line (paths relative to the file's folder);
/// - a folder with one sub-folder of images per class (the sub-folder's name is the class label).
///
/// A missing image or an unknown class is an error naming the file and line; an image that exists but cannot be
/// decoded is skipped and listed in `skipped`.
public struct LabelledImageSet {
    /// [n, 3, size, size]
    public var images: Tensor
    public var labels: [Int]
    /// Where each image came from: a shard key or a path.
    public var sources: [String]
    public var skipped: [String]

    public var count: Int { labels.count }

    /// - Parameters:
    ///   - path: a shard folder, a class-folder tree or a list file
    ///   - classes: the class list the labels must belong to
    ///   - pipeline: the model's image preparation (default: shorter side, centre crop, CLIP statistics at
    ///     `imageSize`)
    ///   - limit: read at most this many images (in file order)
    public static func load(
        path: String, classes: ClassPrompts, imageSize: Int, pipeline: ImagePipeline? = nil, limit: Int = .max,
        progress: @escaping (Int) -> Void = { _ in }
    ) throws -> LabelledImageSet {
        let pipeline = try pipeline ?? ImagePipeline.evaluation(size: imageSize)
        var builder = Builder(pipeline: pipeline, limit: limit, progress: progress)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EvaluationError.io(file: path, message: "no such file or folder")
        }
        if !isDirectory.boolValue {
            try builder.readList(path, classes: classes)
        } else if let shards = try? LoaderConfiguration.discoverShards(in: path), !shards.isEmpty {
            try builder.readShards(shards, classes: classes)
        } else {
            try builder.readClassFolders(path, classes: classes)
        }
        guard !builder.tensors.isEmpty else {
            throw EvaluationError.invalidFile(file: path, line: nil, message: "no readable labelled images")
        }
        return LabelledImageSet(
            images: try Tensor.stack(builder.tensors), labels: builder.labels, sources: builder.sources,
            skipped: builder.skipped)
    }

    /// The subset at `indices`, in that order.
    public func selecting(_ indices: [Int]) throws -> LabelledImageSet {
        let index = try Tensor(indices.map(Int64.init), shape: [indices.count])
        return LabelledImageSet(
            images: try images.indexSelect(dimension: 0, index: index), labels: indices.map { labels[$0] },
            sources: indices.map { sources[$0] }, skipped: skipped)
    }

    /// The names of the folders directly inside `root`, sorted: the classes of a class-folder tree.
    static func subfolders(of root: String) throws -> [String] {
        let fileManager = FileManager.default
        return try fileManager.contentsOfDirectory(atPath: root).sorted().filter { name in
            var isDirectory: ObjCBool = false
            return fileManager.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
    }

    private struct Builder {
        let pipeline: ImagePipeline
        let limit: Int
        let progress: (Int) -> Void
        var tensors: [Tensor] = []
        var labels: [Int] = []
        var sources: [String] = []
        var skipped: [String] = []
        var random = SeededRandom(seed: 0)

        init(pipeline: ImagePipeline, limit: Int, progress: @escaping (Int) -> Void) {
            self.pipeline = pipeline
            self.limit = limit
            self.progress = progress
        }

        var full: Bool { tensors.count >= limit }

        /// Decodes one image; an undecodable one is skipped and listed.
        mutating func add(_ data: Data, label: Int, source: String) {
            do {
                tensors.append(try pipeline.tensor(decoding: data, using: &random))
                labels.append(label)
                sources.append(source)
                progress(tensors.count)
            } catch {
                skipped.append("\(source): \(error)")
            }
        }

        mutating func readShards(_ shards: [String], classes: ClassPrompts) throws {
            for shard in shards where !full {
                let reader = try ShardReader(path: shard)
                while !full, let sample = try reader.nextSample() {
                    let source = "\((shard as NSString).lastPathComponent):\(sample.key)"
                    guard let image = sample.image else {
                        skipped.append("\(source): no image file")
                        continue
                    }
                    let record: PairRecord
                    do {
                        record = try PairRecord.decode(from: sample)
                    } catch {
                        skipped.append("\(source): \(error)")
                        continue
                    }
                    guard let label = record.metadata?["label"] else {
                        throw EvaluationError.invalidFile(
                            file: shard, line: nil, message: "sample \(sample.key) has no `label` metadata")
                    }
                    guard let index = classes.index(of: label) else {
                        throw EvaluationError.invalidFile(
                            file: shard, line: nil, message: "sample \(sample.key) has unknown class '\(label)'")
                    }
                    add(image.data, label: index, source: source)
                }
            }
        }

        mutating func readList(_ path: String, classes: ClassPrompts) throws {
            let folder = (path as NSString).deletingLastPathComponent
            for (number, line) in try ClassPrompts.lines(of: path) where !full {
                let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                    throw EvaluationError.invalidFile(
                        file: path, line: number, message: "expected `image path<TAB>class`, got '\(line)'")
                }
                guard let label = classes.index(of: fields[1]) else {
                    throw EvaluationError.invalidFile(file: path, line: number, message: "unknown class '\(fields[1])'")
                }
                let imagePath = fields[0].hasPrefix("/") ? fields[0] : (folder as NSString).appendingPathComponent(fields[0])
                guard let data = FileManager.default.contents(atPath: imagePath) else {
                    throw EvaluationError.invalidFile(file: path, line: number, message: "missing image \(imagePath)")
                }
                add(data, label: label, source: fields[0])
            }
        }

        mutating func readClassFolders(_ root: String, classes: ClassPrompts) throws {
            let fileManager = FileManager.default
            let folders = try LabelledImageSet.subfolders(of: root)
            guard !folders.isEmpty else {
                throw EvaluationError.invalidFile(
                    file: root, line: nil, message: "neither shards nor class sub-folders of images")
            }
            for folder in folders where !full {
                guard let label = classes.index(of: folder) else {
                    throw EvaluationError.invalidFile(
                        file: (root as NSString).appendingPathComponent(folder), line: nil,
                        message: "folder '\(folder)' is not a class of the class list")
                }
                let directory = (root as NSString).appendingPathComponent(folder)
                let imageExtensions = Set(Sample.imageExtensions)
                for name in try fileManager.contentsOfDirectory(atPath: directory).sorted() where !full {
                    guard imageExtensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
                    let file = (directory as NSString).appendingPathComponent(name)
                    guard let data = fileManager.contents(atPath: file) else {
                        skipped.append("\(folder)/\(name): unreadable")
                        continue
                    }
                    add(data, label: label, source: "\(folder)/\(name)")
                }
            }
        }
    }
}
