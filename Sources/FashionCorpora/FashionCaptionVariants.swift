/// Which captions a training record carries.
///
/// With ``full`` every training caption names each item's class, colour and place. A batch can then be matched
/// on colour and place alone, which is easier to see at this resolution than the class, so the class is barely
/// learnt and class-only prompts (zero-shot classification) stay near chance. ``varied`` adds captions that name
/// only some of the factors — the things alone, things with colours, things with places — so that telling the
/// classes apart becomes part of the task.
public enum TrainingCaptionSet: String, CaseIterable, Sendable, Equatable {
    /// One full caption per language.
    case full
    /// Per language: two full captions in different templates, then one of each ``PartialCaption`` kind.
    case varied
}

/// A caption that names only some of each item's factors. Training-only phrasings: none of them is a zero-shot
/// prompt or a held-out phrasing.
public enum PartialCaption: String, CaseIterable, Sendable {
    /// 图中有一件连衣裙和一双短靴 / a dress and a pair of ankle boots
    case things
    /// 一件红色的连衣裙和一双黑色的短靴 / a red dress and a pair of black ankle boots
    case colours
    /// 左上角是一件连衣裙，右下角是一双短靴 / a dress in the top left and a pair of ankle boots in the bottom right
    case places

    public func chinese(_ items: [CaptionedItem]) -> String {
        switch self {
        case .things: return "图中有" + CaptionTemplate.chineseList(items.map(\.chineseCountedThing))
        case .colours: return CaptionTemplate.chineseList(items.map(\.chineseCounted))
        case .places: return items.map { "\($0.position.chinese)是\($0.chineseCountedThing)" }.joined(separator: "，")
        }
    }

    public func english(_ items: [CaptionedItem]) -> String {
        switch self {
        case .things: return CaptionTemplate.englishList(items.map(\.kind.englishWithArticle))
        case .colours: return CaptionTemplate.englishList(items.map(\.englishCounted))
        case .places: return CaptionTemplate.englishList(items.map { "\($0.kind.englishWithArticle) \($0.position.english)" })
        }
    }
}

extension CaptionTemplate {
    /// A phrasing family used by no training or test caption: the `test-rephrased` split captions the test
    /// images with it, so retrieval there measures whether the model learnt the pictures or the caption grammar.
    /// Every template names each item's colour, class and place, like the training ones.
    public static let rephrasedChinese: [CaptionTemplate] = [
        // 这幅图的左上角放着一件红色的连衣裙，右下角放着一双黑色的短靴
        CaptionTemplate(.chinese, 100) { items in
            "这幅图的" + items.map { "\($0.position.chinese)放着\($0.chineseCounted)" }.joined(separator: "，")
        },
        // 照片上，一件红色的连衣裙摆在左上角，一双黑色的短靴摆在右下角
        CaptionTemplate(.chinese, 101) { items in
            "照片上，" + items.map { "\($0.chineseCounted)摆在\($0.position.chinese)" }.joined(separator: "，")
        },
    ]

    public static let rephrasedEnglish: [CaptionTemplate] = [
        // this image shows a red dress sitting in the top left and a pair of black ankle boots sitting in the
        // bottom right
        CaptionTemplate(.english, 100) { items in
            "this image shows " + englishList(items.map { "\($0.englishCounted) sitting \($0.position.english)" })
        },
        // we can see a red dress (in the top left) and a pair of black ankle boots (in the bottom right)
        CaptionTemplate(.english, 101) { items in
            "we can see " + englishList(items.map { "\($0.englishCounted) (\($0.position.english))" })
        },
    ]
}

extension CaptionedItem {
    /// "一件连衣裙": the count and the thing, no colour.
    var chineseCountedThing: String { "一\(kind.measureWord)\(kind.chinese)" }
}
