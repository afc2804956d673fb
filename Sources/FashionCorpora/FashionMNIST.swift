import BriVLData
import Foundation

/// A Fashion-MNIST class: the dataset's label and name, and the words captions use for it in both languages.
public struct FashionClass: Sendable, Equatable {
    public let label: Int
    /// The dataset's own English name, e.g. "T-shirt/top".
    public let datasetName: String
    /// The Chinese noun, e.g. "连衣裙".
    public let chinese: String
    /// The Chinese measure word counting it, e.g. 件 for clothes, 条 for trousers, 双 for shoes, 个 for bags.
    public let measureWord: String
    /// The English noun as captions use it; plural for things that come in pairs ("trousers", "ankle boots").
    public let english: String
    /// Whether English counts it as "a pair of …".
    public let isPair: Bool

    /// One of it in English: "a dress", "a pair of ankle boots".
    public var englishWithArticle: String {
        isPair ? "a pair of \(english)" : "\(FashionClass.indefiniteArticle(before: english)) \(english)"
    }

    /// "a" or "an", by the sound of the next word's first letter (good enough for this vocabulary).
    static func indefiniteArticle(before word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}

/// One half of Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28×28 grey images of clothing with their labels.
///
/// Items are bright on a black background, so an image works directly as an intensity mask.
public struct FashionMNIST: Sendable {
    /// The dataset's two halves, by their file-name prefixes.
    public enum Subset: String, Sendable, CaseIterable {
        case train
        case test = "t10k"

        public var imagesFile: String { "\(rawValue)-images-idx3-ubyte" }
        public var labelsFile: String { "\(rawValue)-labels-idx1-ubyte" }
    }

    /// Where `apt-get install dataset-fashion-mnist` puts the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// The ten classes, indexed by label.
    public static let classes: [FashionClass] = [
        FashionClass(label: 0, datasetName: "T-shirt/top", chinese: "T恤", measureWord: "件", english: "T-shirt", isPair: false),
        FashionClass(label: 1, datasetName: "Trouser", chinese: "裤子", measureWord: "条", english: "trousers", isPair: true),
        FashionClass(label: 2, datasetName: "Pullover", chinese: "套头衫", measureWord: "件", english: "pullover", isPair: false),
        FashionClass(label: 3, datasetName: "Dress", chinese: "连衣裙", measureWord: "件", english: "dress", isPair: false),
        FashionClass(label: 4, datasetName: "Coat", chinese: "外套", measureWord: "件", english: "coat", isPair: false),
        FashionClass(label: 5, datasetName: "Sandal", chinese: "凉鞋", measureWord: "双", english: "sandals", isPair: true),
        FashionClass(label: 6, datasetName: "Shirt", chinese: "衬衫", measureWord: "件", english: "shirt", isPair: false),
        FashionClass(label: 7, datasetName: "Sneaker", chinese: "运动鞋", measureWord: "双", english: "sneakers", isPair: true),
        FashionClass(label: 8, datasetName: "Bag", chinese: "包", measureWord: "个", english: "bag", isPair: false),
        FashionClass(label: 9, datasetName: "Ankle boot", chinese: "短靴", measureWord: "双", english: "ankle boots", isPair: true),
    ]

    public let count: Int
    public let rows: Int
    public let columns: Int
    /// All images, `count` × `rows` × `columns` bytes.
    public let pixels: [UInt8]
    public let labels: [Int]
    /// The indices of the images of each label (empty for labels the file lacks).
    public let indicesByLabel: [[Int]]

    /// Pairs an image file with its label file, checking that they agree; `source` names them in errors.
    public init(images: IDXFile, labels: IDXFile, source: String) throws {
        func invalid(_ reason: String) -> DataError { .invalidFile(file: source, reason: reason) }
        guard images.dimensions.count == 3 else {
            throw invalid(String(format: "expected an idx3 image file (magic 0x00000803), found magic 0x%08X", images.magic))
        }
        guard labels.dimensions.count == 1 else {
            throw invalid(String(format: "expected an idx1 label file (magic 0x00000801), found magic 0x%08X", labels.magic))
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw invalid("\(images.dimensions[0]) images but \(labels.dimensions[0]) labels")
        }
        guard images.dimensions[0] > 0, images.dimensions[1] > 0, images.dimensions[2] > 0 else {
            throw invalid("holds no images (dimensions \(images.dimensions))")
        }
        var byLabel = [[Int]](repeating: [], count: FashionMNIST.classes.count)
        for (index, label) in labels.values.enumerated() {
            guard Int(label) < FashionMNIST.classes.count else {
                throw invalid("label \(label) of image \(index) is not a Fashion-MNIST class (0–\(FashionMNIST.classes.count - 1))")
            }
            byLabel[Int(label)].append(index)
        }
        count = images.dimensions[0]
        rows = images.dimensions[1]
        columns = images.dimensions[2]
        pixels = images.values
        self.labels = labels.values.map(Int.init)
        indicesByLabel = byLabel
    }

    /// Reads one half from a folder holding the idx files, gzip-compressed (`.gz`) or not.
    public static func load(_ subset: Subset, from directory: String) throws -> FashionMNIST {
        let (imagesPath, labelsPath) = try locate(subset, in: directory)
        return try FashionMNIST(
            images: try IDXFile.read(path: imagesPath), labels: try IDXFile.read(path: labelsPath),
            source: "\(imagesPath) + \(labelsPath)")
    }

    /// The paths of a half's two files: the uncompressed file when present, else the `.gz` one.
    public static func locate(_ subset: Subset, in directory: String) throws -> (images: String, labels: String) {
        func find(_ name: String) throws -> String {
            let plain = (directory as NSString).appendingPathComponent(name)
            for path in [plain, plain + ".gz"] where FileManager.default.fileExists(atPath: path) { return path }
            throw DataError.io(
                file: directory,
                message: "Fashion-MNIST file \(name).gz (or \(name)) is missing; install the dataset-fashion-mnist "
                    + "package, which puts the files in \(defaultDirectory), or point to the folder that holds them")
        }
        return (try find(subset.imagesFile), try find(subset.labelsFile))
    }

    /// The grey pixels of image `index`, row by row.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        let size = rows * columns
        return pixels[(index * size)..<((index + 1) * size)]
    }
}
