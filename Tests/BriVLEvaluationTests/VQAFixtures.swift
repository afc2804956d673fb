import BriVL
import BriVLData
import FashionCorpora
import Foundation
import Imaging
import ModelTestSupport
import Tokenization
import Torch

@testable import BriVLEvaluation

/// Small generated VQA sets and a very small model for them: 16-pixel images, a two-stage ResNet, a one-layer BERT
/// over a vocabulary of the set's own words and characters.
enum VQAFixtures {
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("brivl-vqa-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a stand-in for Fashion-MNIST (both halves, uncompressed) into `directory`: 28×28 images whose every
    /// pixel is 255, so that each item is drawn as a solid square of its colour; labels cycle through the classes.
    static func writeSyntheticFashionMNIST(in directory: String, count: Int = 40) throws {
        func idx(_ dimensions: [Int], _ values: [UInt8]) -> Data {
            var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
            for size in dimensions { bytes += withUnsafeBytes(of: UInt32(size).bigEndian, Array.init) }
            return Data(bytes + values)
        }
        for subset in FashionMNIST.Subset.allCases {
            try idx([count, 28, 28], [UInt8](repeating: 255, count: count * 28 * 28))
                .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(subset.imagesFile)))
            try idx([count], (0..<count).map { UInt8($0 % 10) })
                .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(subset.labelsFile)))
        }
    }

    /// Generates a set into `root/vqa` and returns the paths of its two question files.
    static func generateSet(
        in root: String, trainImages: Int, testImages: Int, questionsPerImage: Int = 2, seed: UInt64 = 1
    ) throws -> (train: String, test: String) {
        try writeSyntheticFashionMNIST(in: root)
        let output = (root as NSString).appendingPathComponent("vqa")
        try FashionVQACorpus(
            .init(
                sourceDirectory: root, outputDirectory: output, trainImages: trainImages, testImages: testImages,
                questionsPerImage: questionsPerImage, imageSize: 24, seed: seed)
        ).run()
        func file(_ split: String) -> String { "\(output)/\(split)/\(FashionVQACorpus.questionsFile)" }
        return (file("train"), file("test"))
    }

    /// A tokenizer knowing the special tokens and every word and character of every question and option that
    /// could be generated.
    static func tokenizer() throws -> BertTokenizer {
        let basic = BasicTokenizer(configuration: .chineseCLIP)
        var texts = ["图中有几件物品？", "How many items are there?", "What colour is the item", "Where is are the",
                     "是什么颜色的？的东西在哪里", "一件两件三件四件 one two three four"]
        texts += FashionMNIST.classes.flatMap { [$0.chinese, $0.englishWithArticle] }
        texts += TintColour.palette.flatMap { [$0.chinese, $0.english] }
        texts += GridPosition.allCases.flatMap { [$0.chinese, "What is \($0.english)?"] }
        let words = Set(texts.flatMap { basic.tokenize($0) }).sorted()
        let vocabulary = try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words)
        return try BertTokenizer(vocabulary: vocabulary, configuration: .chineseCLIP)
    }

    static func configuration(vocabularySize: Int) -> BriVLConfiguration {
        TinyModels.configuration(name: "test-vqa", vocabularySize: vocabularySize, width: 16, maxLength: 24)
    }

    /// The same text tower beside a two-block ViT over 8-pixel patches.
    static func vitConfiguration(vocabularySize: Int) -> BriVLConfiguration {
        var configuration = configuration(vocabularySize: vocabularySize)
        configuration.image = ImageTowerConfiguration(
            vit: VisionTransformerConfiguration(imageSize: 16, patchSize: 8, width: 16, layerCount: 2, headCount: 2),
            head: EmbeddingHeadConfiguration(inputSize: 16, layerCount: 1, headCount: 2, projectionSizes: [32, 16]))
        return configuration
    }

    /// A fresh tiny model with its tokenizer and the evaluation preprocessing, ready to encode questions.
    static func encoder(seed: UInt64 = 0, vit: Bool = false) throws -> MultipleChoiceEncoder {
        let tokenizer = try tokenizer()
        let size = tokenizer.vocabulary.count
        let model = try BriVLModel(
            vit ? vitConfiguration(vocabularySize: size) : configuration(vocabularySize: size),
            generator: Generator(seed: seed))
        return MultipleChoiceEncoder(
            model: model, tokenizer: tokenizer, preprocessing: try ImagingSampleDecoder.evaluation(size: 16).pipeline)
    }

    /// Copies of every parameter and buffer, by key.
    static func snapshot(_ model: BriVLModel) throws -> [String: Tensor] {
        var copies: [String: Tensor] = [:]
        for (key, tensor) in model.stateDict() { copies[key] = try tensor.detach().clone() }
        return copies
    }

    /// The keys whose tensors differ from the snapshot.
    static func changedKeys(_ model: BriVLModel, since snapshot: [String: Tensor]) throws -> Set<String> {
        var changed = Set<String>()
        for (key, tensor) in model.stateDict() where !(try tensor.equals(snapshot[key]!)) { changed.insert(key) }
        return changed
    }
}
