import BriVLData
import Foundation
import Imaging

/// The three splits of the caption corpus.
public enum FashionCaptionSplit: String, CaseIterable, Sendable {
    /// Pretraining pairs, from Fashion-MNIST's training images, never using a held-out factor.
    case train
    /// Retrieval pairs, from the test images, mixing seen and held-out factors.
    case test
    /// Single-item images with their class label, from the test images, for zero-shot classification.
    case zeroShot = "zero-shot"
    /// The test split's images, captioned in a phrasing family no other split uses
    /// (``CaptionTemplate/rephrasedChinese`` and ``CaptionTemplate/rephrasedEnglish``).
    case rephrased = "test-rephrased"

    /// The half of Fashion-MNIST the split's items come from.
    public var subset: FashionMNIST.Subset { self == .train ? .train : .test }

    /// Whether held-out templates, colours and layouts may appear.
    public var usesReservedFactors: Bool { self != .train }

    /// The random stream its scenes draw from: the rephrased split draws the test split's scenes.
    var streamCode: Int {
        switch self {
        case .train: return 0
        case .test, .rephrased: return 1
        case .zeroShot: return 2
        }
    }
}

/// The factors kept out of the training split, so that evaluation measures generalisation to phrasings, colours and
/// arrangements the model never saw rather than memorised strings.
public struct FashionCaptionReservation: Sendable, Equatable {
    /// Template ids, e.g. "zh-4".
    public var chineseTemplates: [String]
    public var englishTemplates: [String]
    /// Colour names, e.g. "purple".
    public var colours: [String]
    /// Places that never appear together in one training image.
    public var positionPairs: [PositionPair]

    public init(chineseTemplates: [String], englishTemplates: [String], colours: [String], positionPairs: [PositionPair]) {
        self.chineseTemplates = chineseTemplates
        self.englishTemplates = englishTemplates
        self.colours = colours
        self.positionPairs = positionPairs
    }

    /// Two templates per language, two colours, and the two diagonals plus left–right as layouts.
    public static let standard = FashionCaptionReservation(
        chineseTemplates: ["zh-4", "zh-5"], englishTemplates: ["en-4", "en-5"], colours: ["orange", "purple"],
        positionPairs: [
            PositionPair(.topLeft, .bottomRight), PositionPair(.topRight, .bottomLeft), PositionPair(.left, .right),
        ])
}

/// How images are composed.
public struct FashionCaptionConfiguration: Sendable, Equatable {
    /// Side of the square canvas in pixels.
    public var imageSize: Int
    /// How many items an image of the train and test splits holds (zero-shot images hold one).
    public var itemCounts: ClosedRange<Int>
    /// An item's side as a fraction of a layout cell (a third of the canvas), drawn uniformly from this range.
    public var itemScale: ClosedRange<Double>
    /// The canvas colour, where item masks are zero.
    public var background: Pixel
    public var reserved: FashionCaptionReservation
    /// The captions of a training record (evaluation records always hold one full caption per language).
    public var trainingCaptions: TrainingCaptionSet
    /// Whether training records carry hard negatives: per caption, the same caption with one item's class, colour
    /// or place changed (``FashionFoiler``). They change no image and no caption.
    public var hardNegatives: Bool
    public var seed: UInt64

    public init(
        imageSize: Int = 64, itemCounts: ClosedRange<Int> = 1...3, itemScale: ClosedRange<Double> = 0.7...1.0,
        background: Pixel = Pixel(240, 238, 232), reserved: FashionCaptionReservation = .standard,
        trainingCaptions: TrainingCaptionSet = .varied, hardNegatives: Bool = true, seed: UInt64 = 0
    ) {
        self.imageSize = imageSize
        self.itemCounts = itemCounts
        self.itemScale = itemScale
        self.background = background
        self.reserved = reserved
        self.trainingCaptions = trainingCaptions
        self.hardNegatives = hardNegatives
        self.seed = seed
    }

    /// Throws ``DataError/invalidConfiguration(_:)`` naming the first setting that cannot work.
    public func validate() throws {
        func invalid(_ message: String) -> DataError { .invalidConfiguration(message) }
        guard (24...4096).contains(imageSize) else {
            throw invalid("image size must be 24...4096 pixels (three layout cells of at least 8), got \(imageSize)")
        }
        guard itemCounts.lowerBound >= 1, itemCounts.upperBound <= 4 else {
            throw invalid("items per image must lie in 1...4, got \(itemCounts)")
        }
        guard itemScale.lowerBound > 0, itemScale.upperBound <= 1, itemScale.lowerBound.isFinite else {
            throw invalid("item scale is a fraction of a layout cell and must lie in (0, 1], got \(itemScale)")
        }
        for (ids, all, kind) in [
            (reserved.chineseTemplates, CaptionTemplate.chinese.map(\.id), "Chinese template"),
            (reserved.englishTemplates, CaptionTemplate.english.map(\.id), "English template"),
            (reserved.colours, TintColour.palette.map(\.english), "colour"),
        ] {
            for id in ids where !all.contains(id) {
                throw invalid("held-out \(kind) '\(id)' does not exist (known: \(all.joined(separator: ", ")))")
            }
            guard Set(all).subtracting(ids).count > 0 else { throw invalid("every \(kind) is held out; training needs one") }
        }
        for pair in reserved.positionPairs where pair.first == pair.second {
            throw invalid("held-out layout \(pair.id) pairs a place with itself")
        }
    }
}

/// One item of a composed image.
public struct FashionItem: Sendable, Equatable {
    public var label: Int
    /// The item's image index in its Fashion-MNIST half.
    public var sourceIndex: Int
    public var colour: TintColour
    public var position: GridPosition
    /// The square the item is drawn into: `side` pixels from (`x`, `y`), inside its layout cell.
    public var x: Int
    public var y: Int
    public var side: Int

    public var kind: FashionClass { FashionMNIST.classes[label] }
}

/// A composed image before rendering: its items, captions, and which held-out factors it uses.
public struct FashionScene: Sendable, Equatable {
    public var split: FashionCaptionSplit
    public var index: Int
    /// In reading order of their places.
    public var items: [FashionItem]
    public var chineseTemplate: String
    public var englishTemplate: String
    public var chinese: String
    public var english: String
    /// Training records' further captions (``TrainingCaptionSet/varied``), alternating Chinese and English.
    public var extraCaptions: [String] = []
    /// Training records' hard negatives, by caption (``PairRecord/hardNegatives``).
    public var hardNegatives: [String: [String]] = [:]
    /// E.g. "template:zh-4", "colour:purple", "layout:top-left+bottom-right"; empty for the training split.
    public var reservedFactors: [String]

    /// The key of the sample in its shards.
    public var key: String { String(format: "%09d", index) }

    /// The caption record stored as `key.json`. Metadata lists are comma-separated in item order; `boxes` holds
    /// `x,y,side` per item, separated by semicolons.
    public func record(imageSize: Int) -> PairRecord {
        var metadata = [
            "split": split.rawValue,
            "labels": items.map { String($0.label) }.joined(separator: ","),
            "colours": items.map(\.colour.english).joined(separator: ","),
            "positions": items.map(\.position.id).joined(separator: ","),
            "boxes": items.map { "\($0.x),\($0.y),\($0.side)" }.joined(separator: ";"),
            "source_indices": items.map { String($0.sourceIndex) }.joined(separator: ","),
            "template_zh": chineseTemplate,
            "template_en": englishTemplate,
            "reserved": reservedFactors.joined(separator: ","),
        ]
        if split == .zeroShot { metadata["label"] = String(items[0].label) }
        return PairRecord(
            texts: [chinese, english] + extraCaptions, source: "fashion-mnist/\(split.subset.rawValue)", width: imageSize,
            height: imageSize, metadata: metadata, hardNegatives: hardNegatives.isEmpty ? nil : hardNegatives)
    }
}

/// Composes captioned images from Fashion-MNIST items: 1–3 items on a canvas, each at its own place of a 3×3
/// layout, scaled, and tinted with a named colour (its grey levels blend the background towards the colour).
///
/// Every sample is a pure function of (seed, split, index) — it draws from its own ``LoaderRandom`` stream — so a
/// corpus is identical for a seed whatever order or thread produces it. The training split draws only from the
/// factors not held out; the evaluation splits draw from all of them and record which held-out ones they use.
public struct FashionCaptionComposer: Sendable {
    public let configuration: FashionCaptionConfiguration
    private let trainChineseTemplates: [CaptionTemplate]
    private let trainEnglishTemplates: [CaptionTemplate]
    private let trainColours: [TintColour]
    private let foiler: FashionFoiler
    private let reservedPairs: Set<PositionPair>

    /// Separates the corpus's random streams from the loader's, which share ``LoaderStream/sample``.
    private static let streamTag = 0x4641_5348_494F_4E  // "FASHION"

    public init(_ configuration: FashionCaptionConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        let reserved = configuration.reserved
        trainChineseTemplates = CaptionTemplate.chinese.filter { !reserved.chineseTemplates.contains($0.id) }
        trainEnglishTemplates = CaptionTemplate.english.filter { !reserved.englishTemplates.contains($0.id) }
        trainColours = TintColour.palette.filter { !reserved.colours.contains($0.english) }
        reservedPairs = Set(reserved.positionPairs)
        foiler = FashionFoiler(colours: trainColours, reservedPairs: reservedPairs)
    }

    /// Side of a layout cell, and the margin that centres the 3×3 grid on the canvas.
    var cellSide: Int { configuration.imageSize / 3 }
    var gridMargin: Int { (configuration.imageSize - 3 * cellSide) / 2 }

    /// The scene of sample `index` of `split`, with items from `source` (the split's Fashion-MNIST half).
    public func scene(_ split: FashionCaptionSplit, index: Int, from source: FashionMNIST) throws -> FashionScene {
        var random = LoaderRandom(seed: configuration.seed, stream: .sample, Self.streamTag, split.streamCode, index)
        let counts = configuration.itemCounts
        let count = split == .zeroShot ? 1 : counts.lowerBound + random.below(counts.count)
        let positions = try drawPositions(count, avoidingReservedPairs: !split.usesReservedFactors, random: &random)
        let colours = split.usesReservedFactors ? TintColour.palette : trainColours
        let scale = configuration.itemScale
        var items: [FashionItem] = []
        for position in positions {
            let sourceIndex: Int
            if split == .zeroShot {
                // Classes in turn, so that zero-shot accuracy weighs every class alike.
                let present = source.indicesByLabel.filter { !$0.isEmpty }
                let candidates = present[index % present.count]
                sourceIndex = candidates[random.below(candidates.count)]
            } else {
                sourceIndex = random.below(source.count)
            }
            let colour = colours[random.below(colours.count)]
            let fraction = scale.lowerBound + random.unit() * (scale.upperBound - scale.lowerBound)
            let side = min(cellSide, max(1, Int((fraction * Double(cellSide)).rounded())))
            let x = gridMargin + position.column * cellSide + random.below(cellSide - side + 1)
            let y = gridMargin + position.row * cellSide + random.below(cellSide - side + 1)
            items.append(
                FashionItem(
                    label: source.labels[sourceIndex], sourceIndex: sourceIndex, colour: colour, position: position, x: x,
                    y: y, side: side))
        }
        items.sort { $0.position < $1.position }

        let chineseTemplates = split.usesReservedFactors ? CaptionTemplate.chinese : trainChineseTemplates
        let englishTemplates = split.usesReservedFactors ? CaptionTemplate.english : trainEnglishTemplates
        var chineseTemplate = chineseTemplates[random.below(chineseTemplates.count)]
        var englishTemplate = englishTemplates[random.below(englishTemplates.count)]
        let words = items.map { CaptionedItem(kind: $0.kind, colour: $0.colour, position: $0.position) }
        var chineseOrder = words
        random.shuffle(&chineseOrder)
        var englishOrder = words
        random.shuffle(&englishOrder)

        // Everything above is drawn alike for test and test-rephrased, and with either training caption set;
        // what follows draws from streams of its own.
        var extraCaptions: [RenderedCaption] = []
        var captionRandom = LoaderRandom(
            seed: configuration.seed, stream: .sample, Self.streamTag, split.streamCode, index, Self.captionStream)
        if split == .rephrased {
            chineseTemplate = CaptionTemplate.rephrasedChinese[captionRandom.below(CaptionTemplate.rephrasedChinese.count)]
            englishTemplate = CaptionTemplate.rephrasedEnglish[captionRandom.below(CaptionTemplate.rephrasedEnglish.count)]
        } else if split == .train, configuration.trainingCaptions == .varied {
            extraCaptions = variedCaptions(
                words, besides: (chineseTemplate.id, englishTemplate.id), random: &captionRandom)
        }
        let firstPair = [RenderedCaption(chineseTemplate, chineseOrder), RenderedCaption(englishTemplate, englishOrder)]

        var scene = FashionScene(
            split: split, index: index, items: items, chineseTemplate: chineseTemplate.id,
            englishTemplate: englishTemplate.id, chinese: firstPair[0].text, english: firstPair[1].text,
            reservedFactors: reservedFactors(of: items, chineseTemplate.id, englishTemplate.id))
        scene.extraCaptions = extraCaptions.map(\.text)
        if split == .train, configuration.hardNegatives {
            var foilRandom = LoaderRandom(
                seed: configuration.seed, stream: .sample, Self.streamTag, split.streamCode, index, Self.foilStream)
            let captions = firstPair + extraCaptions
            let truths = Set(captions.map(\.text))
            for caption in captions where scene.hardNegatives[caption.text] == nil {
                let foils = foiler.foils(of: caption, excluding: truths, random: &foilRandom)
                if !foils.isEmpty { scene.hardNegatives[caption.text] = foils }
            }
        }
        return scene
    }

    /// The last part of the stream the caption choices beyond the first pair draw from.
    private static let captionStream = 0x4341_5054  // "CAPT"
    /// The last part of the stream hard negatives draw from.
    private static let foilStream = 0x464F_494C  // "FOIL"

    /// A second full caption per language in another training template, then each ``PartialCaption`` in both
    /// languages, each with its own item order.
    private func variedCaptions(
        _ words: [CaptionedItem], besides used: (chinese: String, english: String), random: inout LoaderRandom
    ) -> [RenderedCaption] {
        func shuffled() -> [CaptionedItem] {
            var order = words
            random.shuffle(&order)
            return order
        }
        var captions: [RenderedCaption] = []
        let otherChinese = trainChineseTemplates.filter { $0.id != used.chinese }
        let otherEnglish = trainEnglishTemplates.filter { $0.id != used.english }
        if !otherChinese.isEmpty {
            captions.append(RenderedCaption(otherChinese[random.below(otherChinese.count)], shuffled()))
        }
        if !otherEnglish.isEmpty {
            captions.append(RenderedCaption(otherEnglish[random.below(otherEnglish.count)], shuffled()))
        }
        for kind in PartialCaption.allCases {
            captions.append(RenderedCaption(kind, .chinese, shuffled()))
            captions.append(RenderedCaption(kind, .english, shuffled()))
        }
        // Two phrasings can coincide (one item, templates that differ only in the order of items); a record keeps
        // each caption once.
        var seen: Set<String> = []
        return captions.filter { seen.insert($0.text).inserted }
    }

    /// `count` distinct places; for training, never two that form a held-out pair.
    private func drawPositions(
        _ count: Int, avoidingReservedPairs: Bool, random: inout LoaderRandom
    ) throws -> [GridPosition] {
        var chosen: [GridPosition] = []
        for _ in 0..<64 {
            chosen.removeAll()
            while chosen.count < count {
                let candidates = GridPosition.allCases.filter { candidate in
                    !chosen.contains(candidate)
                        && !(avoidingReservedPairs
                            && chosen.contains { reservedPairs.contains(PositionPair($0, candidate)) })
                }
                guard !candidates.isEmpty else { break }
                chosen.append(candidates[random.below(candidates.count)])
            }
            if chosen.count == count { return chosen }
        }
        throw DataError.invalidConfiguration("the held-out layouts leave no room for \(count) items in a training image")
    }

    private func reservedFactors(of items: [FashionItem], _ chineseTemplate: String, _ englishTemplate: String) -> [String] {
        let reserved = configuration.reserved
        var factors: [String] = []
        let rephrased = Set((CaptionTemplate.rephrasedChinese + CaptionTemplate.rephrasedEnglish).map(\.id))
        for template in [chineseTemplate, englishTemplate]
        where reserved.chineseTemplates.contains(template) || reserved.englishTemplates.contains(template)
            || rephrased.contains(template)
        {
            factors.append("template:\(template)")
        }
        for colour in TintColour.palette.map(\.english)
        where reserved.colours.contains(colour) && items.contains(where: { $0.colour.english == colour }) {
            factors.append("colour:\(colour)")
        }
        for pair in reserved.positionPairs {
            let places = Set(items.map(\.position))
            if places.contains(pair.first) && places.contains(pair.second) { factors.append("layout:\(pair.id)") }
        }
        return factors
    }

    /// Draws the scene: each item's grey image, resized to its square, blends the background towards its colour.
    public func render(_ scene: FashionScene, from source: FashionMNIST) throws -> Image {
        let size = configuration.imageSize
        let background = configuration.background
        var canvas = try Image(width: size, height: size, color: background)
        for item in scene.items {
            let grey = Array(source.image(item.sourceIndex))
            let gain = Self.maskGain(grey)
            let mask = try Image(width: source.columns, height: source.rows, grey: grey)
                .resized(to: ImageSize(width: item.side, height: item.side), filter: .bilinear, antialias: true)
            let colour = item.colour.pixel
            mask.withUnsafeBufferPointer { maskBytes in
                canvas.withUnsafeMutableBufferPointer { pixels in
                    for row in 0..<item.side {
                        for column in 0..<item.side {
                            let alpha = min(255, (Int(maskBytes[(row * item.side + column) * 3]) * gain + 128) >> 8)
                            let offset = ((item.y + row) * size + item.x + column) * 3
                            pixels[offset] = Self.blend(background.red, colour.red, alpha)
                            pixels[offset + 1] = Self.blend(background.green, colour.green, alpha)
                            pixels[offset + 2] = Self.blend(background.blue, colour.blue, alpha)
                        }
                    }
                }
            }
        }
        return canvas
    }

    /// The factor (in 1/256ths) that makes the median of an item's visible grey levels fully opaque.
    ///
    /// Many Fashion-MNIST items are dim (dark fabric photographed on black), and used as they are they would blend
    /// only part of the way to their colour: a dim red sneaker would come out pink and contradict its caption.
    /// Making the median opaque keeps the outline's antialiasing and the darker half's texture; the brighter half
    /// saturates.
    static func maskGain(_ grey: [UInt8]) -> Int {
        // Levels below 32 are the background's noise and the outline's edge, not the item's body.
        let visible = grey.filter { $0 >= 32 }.sorted()
        guard !visible.isEmpty else { return 256 }
        let median = Int(visible[visible.count / 2])
        return (255 * 256 + median / 2) / median
    }

    /// `from` moved towards `to` by `alpha`/255, rounded.
    @inline(__always)
    static func blend(_ from: UInt8, _ to: UInt8, _ alpha: Int) -> UInt8 {
        UInt8((Int(from) * (255 - alpha) + Int(to) * alpha + 127) / 255)
    }

    /// Scene, image and caption of sample `index` of `split` as a shard sample (`key.png` + `key.json`).
    public func sample(_ split: FashionCaptionSplit, index: Int, from source: FashionMNIST) throws -> (FashionScene, Sample) {
        let scene = try scene(split, index: index, from: source)
        let png = try render(scene, from: source).pngData()
        let json = try scene.record(imageSize: configuration.imageSize).encoded()
        return (scene, Sample(key: scene.key, files: ["png": png, "json": json]))
    }
}
