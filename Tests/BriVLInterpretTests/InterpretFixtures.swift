import BriVL
import Foundation
import ModelTestSupport
import Tokenization
import Torch

/// A very small random-initialised model and a vocabulary covering a few Chinese captions: enough for every
/// explanation to run in a second or two.
enum InterpretFixtures {
    static let prompts = ["左边有一个红色方块", "右边有一个蓝色方块", "一张绿色的照片"]

    static func vocabulary() throws -> Vocabulary {
        var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tokens += Set(prompts.joined()).map(String.init).sorted()
        return try Vocabulary(tokens: tokens)
    }

    static func tokenizer() throws -> BertTokenizer {
        try BertTokenizer(vocabulary: try vocabulary(), configuration: .chineseCLIP)
    }

    /// A two-stage ResNet at 16 pixels with MGS over grids [1, 2] (5 regions of 8 channels), an 8-dimensional
    /// joint space.
    static func configuration(vocabularySize: Int) -> BriVLConfiguration {
        TinyModels.configuration(name: "interpret-test", vocabularySize: vocabularySize)
    }

    static func model(seed: UInt64 = 3) throws -> (BriVLModel, BertTokenizer) {
        let tokenizer = try tokenizer()
        let model = try BriVLModel(
            configuration(vocabularySize: tokenizer.vocabulary.count), generator: try Generator(seed: seed))
        return (model, tokenizer)
    }
}
