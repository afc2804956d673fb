import Foundation
import Imaging
import Testing

@testable import BriVLData
@testable import FashionCorpora

@Suite("FashionVQA: generated multiple-choice questions about the canvases")
struct FashionVQATests {
    static func corpus(seed: UInt64, output: String = "unused", imageSize: Int = 64) -> FashionVQACorpus {
        FashionVQACorpus(.init(outputDirectory: output, questionsPerImage: 4, imageSize: imageSize, seed: seed))
    }

    static func composed(
        _ corpus: FashionVQACorpus, _ split: FashionCaptionSplit, count: Int, source: FashionMNIST
    ) throws -> [(scene: FashionScene, questions: [FashionVQAQuestion], png: Data)] {
        let composer = try FashionCaptionComposer(corpus.configuration.composer)
        let writer = try FashionVQAQuestionWriter(optionCount: corpus.configuration.optionCount)
        return try (0..<count).map {
            try corpus.compose(split, index: $0, composer: composer, writer: writer, from: source)
        }
    }

    /// The answer each question must have, worked out from the scene and the question's wording alone.
    static func expectedAnswer(_ question: FashionVQAQuestion, _ scene: FashionScene) -> String? {
        let chinese = question.language == .chinese
        let text = question.question
        func className(_ item: FashionItem) -> String { chinese ? item.kind.chinese : item.kind.englishWithArticle }
        func place(_ item: FashionItem) -> String { chinese ? item.position.chinese : item.position.english }
        func named(_ item: FashionItem) -> Bool {
            text.contains(chinese ? "\(item.kind.chinese)" : "the \(item.kind.english)?")
        }
        switch question.kind {
        case .object:
            let matches = scene.items.filter {
                text == (chinese ? "\(place($0))是什么？" : "What is \(place($0))?")
            }
            return matches.count == 1 ? className(matches[0]) : nil
        case .colour:
            let byPlace = scene.items.filter {
                text == (chinese ? "\(place($0))的东西是什么颜色的？" : "What colour is the item \(place($0))?")
            }
            let matches = byPlace.isEmpty ? scene.items.filter(named) : byPlace
            return matches.count == 1 ? (chinese ? matches[0].colour.chinese : matches[0].colour.english) : nil
        case .position:
            let matches = scene.items.filter(named)
            return matches.count == 1 ? place(matches[0]) : nil
        case .count:
            let words = chinese ? ["一件", "两件", "三件", "四件"] : ["one", "two", "three", "four"]
            return words[scene.items.count - 1]
        }
    }

    @Test("every answer follows from the scene, appears once among four distinct options of its kind")
    func answersAreRight() throws {
        let source = try SyntheticFashionMNIST.load(count: 40)
        var kinds = Set<FashionVQAKind>()
        var languages = Set<CaptionTemplate.Language>()
        for split in [FashionCaptionSplit.train, .test] {
            for (scene, questions, _) in try Self.composed(Self.corpus(seed: 11), split, count: 150, source: source) {
                #expect(!questions.isEmpty)
                #expect(Set(questions.map(\.kind)).count == questions.count, "one question per kind and image")
                for question in questions {
                    kinds.insert(question.kind)
                    languages.insert(question.language)
                    #expect(question.options.count == 4)
                    #expect(Set(question.options).count == 4, "\(question.options)")
                    let answer = question.options[question.answer]
                    #expect(question.options.filter { $0 == answer }.count == 1)
                    let expected = Self.expectedAnswer(question, scene)
                    #expect(expected == answer, "\(question.question) → \(answer), scene \(scene.items)")
                }
            }
        }
        #expect(kinds == Set(FashionVQAKind.allCases))
        #expect(languages == [.chinese, .english])
    }

    @Test("distractors are of the answer's kind: colours, places, class names, counts")
    func distractorsShareTheAnswersKind() throws {
        let source = try SyntheticFashionMNIST.load(count: 40)
        for (_, questions, _) in try Self.composed(Self.corpus(seed: 2), .train, count: 60, source: source) {
            for question in questions {
                let chinese = question.language == .chinese
                let pool: [String]
                switch question.kind {
                case .object: pool = FashionMNIST.classes.map { chinese ? $0.chinese : $0.englishWithArticle }
                case .colour: pool = TintColour.palette.map { chinese ? $0.chinese : $0.english }
                case .position: pool = GridPosition.allCases.map { chinese ? $0.chinese : $0.english }
                case .count: pool = chinese ? ["一件", "两件", "三件", "四件"] : ["one", "two", "three", "four"]
                }
                #expect(question.options.allSatisfy(pool.contains), "\(question.options)")
            }
        }
    }

    @Test("a place is asked for only when the class names one item")
    func noAmbiguousPlaceQuestions() throws {
        let writer = try FashionVQAQuestionWriter()
        let dress = FashionMNIST.classes[3]
        let item = { (position: GridPosition) in
            FashionItem(label: dress.label, sourceIndex: 0, colour: TintColour.palette[0], position: position, x: 0, y: 0, side: 4)
        }
        var scene = try FashionCaptionComposer(.init()).scene(.train, index: 0, from: SyntheticFashionMNIST.load(count: 10))
        scene.items = [item(.topLeft), item(.bottomRight)]
        #expect(!writer.askableKinds(scene).contains(.position))
        var random = LoaderRandom(seed: 1)
        let colour = writer.question(.colour, about: scene, in: .english, random: &random)
        #expect(colour.question.hasPrefix("What colour is the item "), "two dresses: the item is named by its place")
        scene.items = [item(.topLeft)]
        #expect(writer.askableKinds(scene).contains(.position))
        #expect(throws: DataError.self) { try FashionVQAQuestionWriter(optionCount: 5) }
    }

    @Test("the same seed gives the same questions and images; another seed does not")
    func deterministic() throws {
        let source = try SyntheticFashionMNIST.load(count: 40)
        let first = try Self.composed(Self.corpus(seed: 7), .test, count: 25, source: source)
        let again = try Self.composed(Self.corpus(seed: 7), .test, count: 25, source: source)
        let other = try Self.composed(Self.corpus(seed: 8), .test, count: 25, source: source)
        for (a, b) in zip(first, again) {
            #expect(a.scene == b.scene)
            #expect(a.questions == b.questions)
            #expect(a.png == b.png)
        }
        let differing = zip(first, other).filter { $0.questions != $1.questions }.count
        #expect(differing > 10)
    }

    @Test("writes images and questions.jsonl per split; images decode and show each item in its colour")
    func writesTheSet() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fashion-vqa-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try SyntheticFashionMNIST.write(in: directory)
        let output = (directory as NSString).appendingPathComponent("vqa")
        let configuration = FashionVQACorpus.Configuration(
            sourceDirectory: directory, outputDirectory: output, trainImages: 12, testImages: 5, questionsPerImage: 2,
            imageSize: 48, seed: 3)
        var calls = 0
        let manifest = try FashionVQACorpus(configuration).run { done, total in
            calls += 1
            #expect(total == 17 && done == calls)
        }
        #expect(manifest.splits["train"]?.images == 12)
        #expect(manifest.splits["test"]?.images == 5)
        #expect(manifest.splits["test"]?.source == "t10k")

        let source = try FashionMNIST.load(.train, from: directory)
        let composer = try FashionCaptionComposer(configuration.composer)
        let trainFolder = (output as NSString).appendingPathComponent("train")
        let lines = try String(contentsOfFile: (trainFolder as NSString).appendingPathComponent("questions.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 24)
        #expect(manifest.splits["train"]?.questions == 24)
        for line in lines {
            let record = try JSONDecoder().decode(VQARecord.self, from: Data(line.utf8))
            #expect(record.options.indices.contains(record.answer))
            #expect(["zh", "en"].contains(record.language))
            let image = try ImageDecoder.decode(contentsOf: (trainFolder as NSString).appendingPathComponent(record.image))
            #expect(image.width == 48 && image.height == 48)
            // The synthetic items are solid, so the centre of each item's square is exactly its tint.
            let index = Int(record.image.dropFirst("images/".count).prefix(6))!
            let scene = try composer.scene(.train, index: index, from: source)
            let pixels = image.pixels
            for item in scene.items {
                let offset = ((item.y + item.side / 2) * 48 + item.x + item.side / 2) * 3
                #expect(Pixel(pixels[offset], pixels[offset + 1], pixels[offset + 2]) == item.colour.pixel)
            }
        }
        #expect(throws: DataError.self) { try FashionVQACorpus(configuration).run() }
    }
}
