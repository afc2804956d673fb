import Foundation
import Testing

@testable import BriVLData
@testable import FashionCorpora

@Suite("FashionCaption: varied training captions, the rephrased test split, factor questions")
struct FashionCaptionVariantTests {
    static let source = try! SyntheticFashionMNIST.load(count: 40)

    static func scenes(
        _ split: FashionCaptionSplit, count: Int, captions: TrainingCaptionSet = .varied
    ) throws -> [FashionScene] {
        let composer = try FashionCaptionComposer(.init(trainingCaptions: captions))
        return try (0..<count).map { try composer.scene(split, index: $0, from: source) }
    }

    static let classes = FashionMNIST.classes
    static let dress = CaptionedItem(kind: classes[3], colour: TintColour.named("red")!, position: .topLeft)
    static let boots = CaptionedItem(kind: classes[9], colour: TintColour.named("black")!, position: .bottomRight)

    @Test("partial captions name exactly the factors of their kind")
    func partialSentences() {
        let items = [Self.dress, Self.boots]
        #expect(PartialCaption.things.chinese(items) == "图中有一件连衣裙和一双短靴")
        #expect(PartialCaption.things.english(items) == "a dress and a pair of ankle boots")
        #expect(PartialCaption.colours.chinese(items) == "一件红色的连衣裙和一双黑色的短靴")
        #expect(PartialCaption.colours.english(items) == "a red dress and a pair of black ankle boots")
        #expect(PartialCaption.places.chinese(items) == "左上角是一件连衣裙，右下角是一双短靴")
        #expect(PartialCaption.places.english(items) == "a dress in the top left and a pair of ankle boots in the bottom right")
    }

    @Test("varied training records: two full captions per language, then things, colours and places, each once")
    func variedRecords() throws {
        let full = try Self.scenes(.train, count: 300, captions: .full)
        let varied = try Self.scenes(.train, count: 300, captions: .varied)
        var lengths: [Int: Int] = [:]
        for (plain, scene) in zip(full, varied) {
            // The caption set changes captions only: items, places, colours and the first pair are the same.
            #expect(plain.items == scene.items)
            #expect(plain.chinese == scene.chinese && plain.english == scene.english)
            #expect(plain.extraCaptions.isEmpty)
            let texts = scene.record(imageSize: 64).texts
            #expect(Set(texts).count == texts.count, "a record repeats a caption: \(texts)")
            lengths[texts.count, default: 0] += 1
            for text in texts {
                // Every caption names every item's class, and never a colour or place that is not in the picture.
                let chinese = text.unicodeScalars.contains { $0.value >= 0x4E00 }
                for item in scene.items {
                    #expect(text.contains(chinese ? item.kind.chinese : item.kind.english), "\(text)")
                }
                for colour in TintColour.palette where !scene.items.contains(where: { $0.colour == colour }) {
                    #expect(!text.contains(chinese ? colour.chinese : " \(colour.english) "), "\(text)")
                }
            }
            // The second full captions use training templates other than the first's.
            let reserved = FashionCaptionReservation.standard
            for template in CaptionTemplate.chinese + CaptionTemplate.english
            where reserved.chineseTemplates.contains(template.id) || reserved.englishTemplates.contains(template.id) {
                let words = scene.items.map { CaptionedItem(kind: $0.kind, colour: $0.colour, position: $0.position) }
                #expect(!texts.contains(template.caption(words)))
            }
        }
        // 2 full + 2 second full + 6 partial, less coincidences for single items.
        #expect(lengths.keys.allSatisfy { (6...10).contains($0) })
        #expect(lengths[10, default: 0] > 100)
        // Evaluation splits keep one caption per language whatever the training set.
        for scene in try Self.scenes(.test, count: 50) { #expect(scene.extraCaptions.isEmpty) }
    }

    @Test("test-rephrased shows the test split's scenes, captioned only in the rephrased family")
    func rephrasedSplit() throws {
        let test = try Self.scenes(.test, count: 200)
        let rephrased = try Self.scenes(.rephrased, count: 200)
        let family = Set((CaptionTemplate.rephrasedChinese + CaptionTemplate.rephrasedEnglish).map(\.id))
        let everyOther = CaptionTemplate.chinese + CaptionTemplate.english
        var used = Set<String>()
        for (original, scene) in zip(test, rephrased) {
            #expect(original.items == scene.items)
            #expect(family.contains(scene.chineseTemplate) && family.contains(scene.englishTemplate))
            used.formUnion([scene.chineseTemplate, scene.englishTemplate])
            #expect(scene.chinese != original.chinese && scene.english != original.english)
            let words = scene.items.map { CaptionedItem(kind: $0.kind, colour: $0.colour, position: $0.position) }
            for template in everyOther { #expect(template.caption(words) != scene.english) }
            #expect(scene.reservedFactors.contains("template:\(scene.chineseTemplate)"))
            for item in scene.items {
                #expect(scene.chinese.contains("\(item.colour.chinese)的\(item.kind.chinese)"))
                #expect(scene.chinese.contains(item.position.chinese))
                #expect(scene.english.contains("\(item.colour.english) \(item.kind.english)"))
                #expect(scene.english.contains(item.position.english))
            }
            #expect(scene.record(imageSize: 64).metadata?["split"] == "test-rephrased")
        }
        #expect(used == family)
    }

    @Test("held-out prompts share no template with classes.json's prompts, and no training caption opens like one")
    func heldOutPromptsAreUnused() throws {
        let standard = ZeroShotClassList.standard
        let held = Set(FashionCaptionCorpus.heldOutPrompts)
        #expect(held.isDisjoint(with: standard.chinesePrompts + standard.englishPrompts))
        #expect(held.allSatisfy { $0.components(separatedBy: "{}").count == 2 })
        for scene in try Self.scenes(.train, count: 100) {
            for text in scene.record(imageSize: 64).texts {
                for prompt in held {
                    let stem = prompt.components(separatedBy: "{}").max { $0.count < $1.count }!
                        .trimmingCharacters(in: .whitespaces)
                    #expect(!text.contains(stem), "training caption '\(text)' contains '\(stem)'")
                }
            }
        }
    }

    @Test("factor questions: the true caption among alike captions that differ in one factor only")
    func factorQuestions() throws {
        let templates = FashionFactorQuestions.templates(heldOut: .standard)
        #expect(templates.map(\.id) == ["zh-0", "en-0"])
        let training = TintColour.palette.filter { !["orange", "purple"].contains($0.english) }
        let questions = FashionFactorQuestions.questions(for: Self.dress, templates: templates, colours: training)
        #expect(questions.map(\.factor) == [.class, .colour, .place, .class, .colour, .place])
        for question in questions {
            let template = CaptionTemplate.named(question.template)!
            #expect(question.candidates[question.answer] == template.caption([Self.dress]))
            #expect(Set(question.candidates).count == question.candidates.count)
            let expected = [FashionFactor.class: 10, .colour: 9, .place: 9][question.factor]!
            #expect(question.candidates.count == expected)
        }
        // An item in a colour training never named gets no colour question.
        let orange = CaptionedItem(kind: Self.classes[8], colour: TintColour.named("orange")!, position: .centre)
        #expect(
            FashionFactorQuestions.questions(for: orange, templates: templates, colours: training).map(\.factor)
                == [.class, .place, .class, .place])
    }
}
