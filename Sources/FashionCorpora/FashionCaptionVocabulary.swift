import Imaging

/// The nine named places of the canvas's 3×3 layout, in reading order.
public enum GridPosition: Int, CaseIterable, Sendable, Comparable {
    case topLeft, top, topRight, left, centre, right, bottomLeft, bottom, bottomRight

    public var row: Int { rawValue / 3 }
    public var column: Int { rawValue % 3 }

    /// A stable identifier for metadata and manifests, e.g. "top-left".
    public var id: String {
        ["top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right"][rawValue]
    }

    /// The place as Chinese says it, e.g. 左上角.
    public var chinese: String {
        ["左上角", "上方", "右上角", "左侧", "中间", "右侧", "左下角", "下方", "右下角"][rawValue]
    }

    /// The place as an English prepositional phrase, e.g. "in the top left", "at the bottom".
    public var english: String {
        [
            "in the top left", "at the top", "in the top right", "on the left", "in the centre", "on the right",
            "in the bottom left", "at the bottom", "in the bottom right",
        ][rawValue]
    }

    public init?(id: String) {
        guard let position = GridPosition.allCases.first(where: { $0.id == id }) else { return nil }
        self = position
    }

    public static func < (lhs: GridPosition, rhs: GridPosition) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Two places that, when held out, never appear together in one training image.
public struct PositionPair: Sendable, Hashable {
    public let first: GridPosition
    public let second: GridPosition

    /// The pair in a fixed order, so that (a, b) and (b, a) are the same pair.
    public init(_ a: GridPosition, _ b: GridPosition) {
        first = min(a, b)
        second = max(a, b)
    }

    /// E.g. "top-left+bottom-right".
    public var id: String { "\(first.id)+\(second.id)" }
}

/// A named colour that tints an item: the item's grey levels blend the background towards it.
public struct TintColour: Sendable, Equatable {
    /// The English name, also the identifier in metadata.
    public let english: String
    public let chinese: String
    public let pixel: Pixel

    /// The palette, with colours far enough apart (and from the background) to tell by eye.
    public static let palette: [TintColour] = [
        TintColour(english: "red", chinese: "红色", pixel: Pixel(210, 35, 40)),
        TintColour(english: "orange", chinese: "橙色", pixel: Pixel(245, 130, 20)),
        TintColour(english: "yellow", chinese: "黄色", pixel: Pixel(230, 190, 20)),
        TintColour(english: "green", chinese: "绿色", pixel: Pixel(40, 155, 60)),
        TintColour(english: "cyan", chinese: "青色", pixel: Pixel(20, 170, 190)),
        TintColour(english: "blue", chinese: "蓝色", pixel: Pixel(35, 75, 210)),
        TintColour(english: "purple", chinese: "紫色", pixel: Pixel(130, 55, 180)),
        TintColour(english: "pink", chinese: "粉色", pixel: Pixel(240, 120, 170)),
        TintColour(english: "brown", chinese: "棕色", pixel: Pixel(125, 75, 35)),
        TintColour(english: "grey", chinese: "灰色", pixel: Pixel(120, 120, 120)),
        TintColour(english: "black", chinese: "黑色", pixel: Pixel(25, 25, 25)),
    ]

    public static func named(_ english: String) -> TintColour? { palette.first { $0.english == english } }
}
