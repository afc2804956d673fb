import BriVL
import BriVLInference
import Foundation
import Imaging
import Tokenization
import Torch

/// A batch of questions as the model sees them.
public struct MultipleChoiceBatch {
    /// [questions, dim]
    public var imageEmbeddings: Tensor
    /// [questions, most options, dim]; slots past a question's own options hold copies of its first option.
    public var optionEmbeddings: Tensor
    /// [questions, most options] bool, true for empty slots; nil when every question has the same number of options.
    public var padding: Tensor?
    /// [questions] int64
    public var answers: Tensor
}

/// Runs questions through the two towers: each distinct image once through the image tower (decoded with the
/// model's evaluation preprocessing), and "question option" for every option through the text tower.
///
/// It records gradients when the caller does; evaluation wraps it in `withNoGrad`.
public struct MultipleChoiceEncoder {
    public let model: BriVLModel
    public let tokenizer: any TextTokenizer
    /// Decodes an image file into the tensor the image tower takes (no randomness: the same every epoch).
    public let preprocessing: ImagePipeline

    public init(model: BriVLModel, tokenizer: any TextTokenizer, preprocessing: ImagePipeline) {
        self.model = model
        self.tokenizer = tokenizer
        self.preprocessing = preprocessing
    }

    /// - Parameter file: the question file, to name in errors about unreadable images
    public func encode(_ questions: [VQAQuestion], file: String) throws -> MultipleChoiceBatch {
        precondition(!questions.isEmpty, "a batch needs at least one question")
        // Questions about the same image share one pass through the image tower.
        var imageSlots: [String: Int] = [:]
        var images: [Tensor] = []
        var imageIndex: [Int64] = []
        for question in questions {
            if imageSlots[question.imagePath] == nil {
                imageSlots[question.imagePath] = images.count
                images.append(try decodeImage(question, file: file))
            }
            imageIndex.append(Int64(imageSlots[question.imagePath]!))
        }
        let distinctEmbeddings = try model.encodeImage(Tensor.stack(images))
        let imageEmbeddings = try distinctEmbeddings.indexSelect(dimension: 0, index: Tensor(imageIndex))

        let width = questions.map(\.options.count).max()!
        var texts: [String] = []
        var slots: [Int64] = []
        var padding: [Bool] = []
        for question in questions {
            let first = texts.count
            texts += question.options.indices.map { question.text(option: $0) }
            for slot in 0..<width {
                slots.append(Int64(slot < question.options.count ? first + slot : first))
                padding.append(slot >= question.options.count)
            }
        }
        let textEmbeddings = try model.encodeText(TextInput(texts, for: model, tokenizer: tokenizer))
        let optionEmbeddings = try textEmbeddings.indexSelect(dimension: 0, index: Tensor(slots))
            .reshaped([questions.count, width, textEmbeddings.size(1)])
        let hasPadding = padding.contains(true)
        return MultipleChoiceBatch(
            imageEmbeddings: imageEmbeddings, optionEmbeddings: optionEmbeddings,
            padding: hasPadding ? try Tensor(padding, shape: [questions.count, width]) : nil,
            answers: try Tensor(questions.map { Int64($0.answer) }))
    }

    private func decodeImage(_ question: VQAQuestion, file: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: question.imagePath) else {
            throw EvaluationError.invalidFile(
                file: file, line: question.line, message: "cannot read image \(question.imagePath)")
        }
        var random = SeededRandom(seed: 0)
        do {
            return try preprocessing.tensor(decoding: data, using: &random)
        } catch {
            throw EvaluationError.invalidFile(
                file: file, line: question.line, message: "cannot decode image \(question.imagePath): \(error)")
        }
    }
}
