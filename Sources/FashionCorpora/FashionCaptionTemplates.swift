/// What a caption says about one item: what it is, its colour and where it is.
public struct CaptionedItem: Sendable, Equatable {
    public var kind: FashionClass
    public var colour: TintColour
    public var position: GridPosition

    public init(kind: FashionClass, colour: TintColour, position: GridPosition) {
        self.kind = kind
        self.colour = colour
        self.position = position
    }

    /// "一件红色的连衣裙".
    var chineseCounted: String { "一\(kind.measureWord)\(colour.chinese)的\(kind.chinese)" }
    /// "红色的连衣裙".
    var chineseBare: String { "\(colour.chinese)的\(kind.chinese)" }
    /// "a red dress", "an orange bag", "a pair of red sandals".
    var englishCounted: String {
        if kind.isPair { return "a pair of \(colour.english) \(kind.english)" }
        return "\(FashionClass.indefiniteArticle(before: colour.english)) \(colour.english) \(kind.english)"
    }
    /// "the red dress", "the red sandals".
    var englishDefinite: String { "the \(colour.english) \(kind.english)" }
}

/// A way of captioning a set of items in one language.
///
/// The templates differ in sentence structure — places first or things first, with or without counts, an opening
/// such as 图中 / "there is" — so that a held-out template tests phrasings the model never saw, not new words: every
/// template names each item's colour, class and place. Items are captioned in the order given; the composer
/// shuffles them per caption.
public struct CaptionTemplate: Sendable {
    public enum Language: String, Sendable {
        case chinese = "zh"
        case english = "en"
    }

    /// E.g. "zh-3".
    public let id: String
    public let language: Language
    private let render: @Sendable ([CaptionedItem]) -> String

    init(_ language: Language, _ number: Int, render: @escaping @Sendable ([CaptionedItem]) -> String) {
        id = "\(language.rawValue)-\(number)"
        self.language = language
        self.render = render
    }

    /// The caption of `items` (at least one).
    public func caption(_ items: [CaptionedItem]) -> String {
        precondition(!items.isEmpty, "a caption needs at least one item")
        return render(items)
    }

    public static func named(_ id: String) -> CaptionTemplate? { (chinese + english).first { $0.id == id } }

    public static let chinese: [CaptionTemplate] = [
        // 左上角有一件红色的连衣裙，右下角有一双黑色的短靴
        CaptionTemplate(.chinese, 0) { items in
            items.map { "\($0.position.chinese)有\($0.chineseCounted)" }.joined(separator: "，")
        },
        // 图中有一件红色的连衣裙和一双黑色的短靴，分别位于左上角和右下角
        CaptionTemplate(.chinese, 1) { items in
            let things = chineseList(items.map(\.chineseCounted))
            if items.count == 1 { return "图中有\(things)，位于\(items[0].position.chinese)" }
            return "图中有\(things)，分别位于\(chineseList(items.map(\.position.chinese)))"
        },
        // 红色的连衣裙在左上角，黑色的短靴在右下角
        CaptionTemplate(.chinese, 2) { items in
            items.map { "\($0.chineseBare)在\($0.position.chinese)" }.joined(separator: "，")
        },
        // 画面中共有两样东西：左上角是一件红色的连衣裙，右下角是一双黑色的短靴
        CaptionTemplate(.chinese, 3) { items in
            let opening = items.count == 1 ? "画面中只有一样东西" : "画面中共有\(chineseNumeral(items.count))样东西"
            return opening + "：" + items.map { "\($0.position.chinese)是\($0.chineseCounted)" }.joined(separator: "，")
        },
        // 在左上角可以看到一件红色的连衣裙，在右下角可以看到一双黑色的短靴
        CaptionTemplate(.chinese, 4) { items in
            items.map { "在\($0.position.chinese)可以看到\($0.chineseCounted)" }.joined(separator: "，")
        },
        // 这张图片里，红色的连衣裙位于左上角，黑色的短靴位于右下角
        CaptionTemplate(.chinese, 5) { items in
            "这张图片里，" + items.map { "\($0.chineseBare)位于\($0.position.chinese)" }.joined(separator: "，")
        },
    ]

    public static let english: [CaptionTemplate] = [
        // a red dress in the top left and a pair of black ankle boots in the bottom right
        CaptionTemplate(.english, 0) { items in
            englishList(items.map { "\($0.englishCounted) \($0.position.english)" })
        },
        // there is a red dress in the top left and a pair of black ankle boots in the bottom right
        CaptionTemplate(.english, 1) { items in
            "there is " + englishList(items.map { "\($0.englishCounted) \($0.position.english)" })
        },
        // the red dress is in the top left and the black ankle boots are in the bottom right
        CaptionTemplate(.english, 2) { items in
            englishList(items.map { "\($0.englishDefinite) \($0.kind.isPair ? "are" : "is") \($0.position.english)" })
        },
        // two items: a red dress in the top left and a pair of black ankle boots in the bottom right
        CaptionTemplate(.english, 3) { items in
            let opening = items.count == 1 ? "a single item" : "\(englishNumeral(items.count)) items"
            return opening + ": " + englishList(items.map { "\($0.englishCounted) \($0.position.english)" })
        },
        // in the top left, a red dress; in the bottom right, a pair of black ankle boots
        CaptionTemplate(.english, 4) { items in
            items.map { "\($0.position.english), \($0.englishCounted)" }.joined(separator: "; ")
        },
        // a picture with a red dress and a pair of black ankle boots, placed in the top left and in the bottom right
        // respectively
        CaptionTemplate(.english, 5) { items in
            let things = englishList(items.map(\.englishCounted))
            if items.count == 1 { return "a picture with \(things), placed \(items[0].position.english)" }
            return "a picture with \(things), placed \(englishList(items.map(\.position.english))) respectively"
        },
    ]

    /// "A", "A和B", "A、B和C".
    static func chineseList(_ parts: [String]) -> String {
        parts.count <= 1 ? parts.joined() : parts.dropLast().joined(separator: "、") + "和" + parts.last!
    }

    /// "A", "A and B", "A, B and C".
    static func englishList(_ parts: [String]) -> String {
        parts.count <= 1 ? parts.joined() : parts.dropLast().joined(separator: ", ") + " and " + parts.last!
    }

    /// 两 rather than 二 before a measure word.
    static func chineseNumeral(_ number: Int) -> String {
        let numerals = ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九"]
        return numerals.indices.contains(number) ? numerals[number] : String(number)
    }

    static func englishNumeral(_ number: Int) -> String {
        let numerals = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        return numerals.indices.contains(number) ? numerals[number] : String(number)
    }
}
