import BriVLData
import Foundation
import Imaging

/// What a generated question asks about; each kind has its own pool of answers, from which distractors are drawn, so
/// that every option of a question is the same sort of thing (four colours, four places…).
public enum FashionVQAKind: String, CaseIterable, Sendable {
    /// "左上角是什么？" / "What is in the top left?" → a class.
    case object
    /// "连衣裙是什么颜色的？" / "What colour is the dress?" → a colour.
    case colour
    /// "包在哪里？" / "Where is the bag?" → a place.
    case position
    /// "图中有几件物品？" / "How many items are there?" → a number.
    case count

    /// The Visual7W type the question falls under.
    public var type: VQAQuestionType {
        switch self {
        case .object, .colour: return .what
        case .position: return .where
        case .count: return .how
        }
    }
}

/// A generated multiple-choice question, before it is written.
public struct FashionVQAQuestion: Sendable, Equatable {
    public var kind: FashionVQAKind
    public var language: CaptionTemplate.Language
    public var question: String
    public var options: [String]
    public var answer: Int
    /// The item the question is about (nil for counting).
    public var item: FashionItem?

    public var type: VQAQuestionType { kind.type }
}

/// Writes multiple-choice questions about a composed scene, in Chinese or English.
///
/// Questions never have two right answers: a class names its item only when no other item of the scene shares the
/// class (otherwise the colour question names the item by its place, and no place question is asked), and every
/// place holds at most one item. Distractors are other answers of the same kind, so the options cannot be told apart
/// by what sort of words they are.
public struct FashionVQAQuestionWriter: Sendable {
    /// Options per question, the answer included.
    public let optionCount: Int

    /// The most options every kind can fill: there are four item counts to choose from.
    public static let maximumOptionCount = 4

    public init(optionCount: Int = 4) throws {
        guard (2...Self.maximumOptionCount).contains(optionCount) else {
            throw DataError.invalidConfiguration(
                "questions need 2...\(Self.maximumOptionCount) options (counting has four answers), got \(optionCount)")
        }
        self.optionCount = optionCount
    }

    /// The kinds that can be asked about `scene` without ambiguity.
    public func askableKinds(_ scene: FashionScene) -> [FashionVQAKind] {
        FashionVQAKind.allCases.filter { $0 != .position || !Self.itemsWithUniqueClass(scene).isEmpty }
    }

    /// Up to `count` questions of distinct kinds about `scene`, drawn from `random`.
    public func questions(
        about scene: FashionScene, count: Int, random: inout LoaderRandom
    ) -> [FashionVQAQuestion] {
        var kinds = askableKinds(scene)
        random.shuffle(&kinds)
        return kinds.prefix(count).map { kind in
            let language: CaptionTemplate.Language = random.below(2) == 0 ? .chinese : .english
            return question(kind, about: scene, in: language, random: &random)
        }
    }

    /// One question of `kind` (which must be askable) in `language`.
    public func question(
        _ kind: FashionVQAKind, about scene: FashionScene, in language: CaptionTemplate.Language,
        random: inout LoaderRandom
    ) -> FashionVQAQuestion {
        let chinese = language == .chinese
        let unique = Self.itemsWithUniqueClass(scene)
        switch kind {
        case .object:
            let item = scene.items[random.below(scene.items.count)]
            let text = chinese ? "\(item.position.chinese)是什么？" : "What is \(item.position.english)?"
            let names = FashionMNIST.classes.map { chinese ? $0.chinese : $0.englishWithArticle }
            return make(kind, language, text, answer: item.label, pool: names, item: item, random: &random)
        case .colour:
            let byClass = !unique.isEmpty
            let item = byClass ? unique[random.below(unique.count)] : scene.items[random.below(scene.items.count)]
            let text: String
            if chinese {
                text = byClass ? "\(item.kind.chinese)是什么颜色的？" : "\(item.position.chinese)的东西是什么颜色的？"
            } else {
                text = byClass
                    ? "What colour \(item.kind.isPair ? "are" : "is") the \(item.kind.english)?"
                    : "What colour is the item \(item.position.english)?"
            }
            let names = TintColour.palette.map { chinese ? $0.chinese : $0.english }
            let answer = TintColour.palette.firstIndex(of: item.colour)!
            return make(kind, language, text, answer: answer, pool: names, item: item, random: &random)
        case .position:
            precondition(!unique.isEmpty, "a place question needs an item whose class no other item shares")
            let item = unique[random.below(unique.count)]
            let text = chinese
                ? "\(item.kind.chinese)在哪里？" : "Where \(item.kind.isPair ? "are" : "is") the \(item.kind.english)?"
            let names = GridPosition.allCases.map { chinese ? $0.chinese : $0.english }
            return make(kind, language, text, answer: item.position.rawValue, pool: names, item: item, random: &random)
        case .count:
            let text = chinese ? "图中有几件物品？" : "How many items are there?"
            let names = chinese ? ["一件", "两件", "三件", "四件"] : ["one", "two", "three", "four"]
            return make(kind, language, text, answer: scene.items.count - 1, pool: names, item: nil, random: &random)
        }
    }

    /// The answer `pool[answer]` and `optionCount − 1` other entries of the pool, in a random order.
    private func make(
        _ kind: FashionVQAKind, _ language: CaptionTemplate.Language, _ text: String, answer: Int, pool: [String],
        item: FashionItem?, random: inout LoaderRandom
    ) -> FashionVQAQuestion {
        var distractors = pool.indices.filter { $0 != answer }
        random.shuffle(&distractors)
        var options = [answer] + distractors.prefix(optionCount - 1)
        random.shuffle(&options)
        return FashionVQAQuestion(
            kind: kind, language: language, question: text, options: options.map { pool[$0] },
            answer: options.firstIndex(of: answer)!, item: item)
    }

    /// Items no other item of the scene shares a class with, in the scene's order.
    static func itemsWithUniqueClass(_ scene: FashionScene) -> [FashionItem] {
        scene.items.filter { item in scene.items.filter { $0.label == item.label }.count == 1 }
    }
}
