import Foundation
import Testing

@testable import BriVLData
@testable import FashionCorpora

@Suite("FashionCaption: hard negatives")
struct FashionHardNegativeTests {
    static let source = try! SyntheticFashionMNIST.load(count: 40)
    static let reserved = FashionCaptionReservation.standard
    static let trainingColours = TintColour.palette.filter { !reserved.colours.contains($0.english) }
    static let reservedPairs = Set(reserved.positionPairs)

    static func scenes(_ split: FashionCaptionSplit, count: Int, hardNegatives: Bool = true) throws -> [FashionScene] {
        let composer = try FashionCaptionComposer(.init(hardNegatives: hardNegatives))
        return try (0..<count).map { try composer.scene(split, index: $0, from: source) }
    }

    /// Every caption of `items` in caption order `order` with one factor of one item changed, by factor — the only
    /// sentences a foil may be. Colours are the training ones; a new place is free and completes no held-out layout.
    static func oneChange(_ order: [CaptionedItem], render: ([CaptionedItem]) -> String) -> [FashionFactor: Set<String>] {
        var result: [FashionFactor: Set<String>] = [:]
        for index in order.indices {
            func add(_ factor: FashionFactor, _ change: (inout CaptionedItem) -> Void) {
                var changed = order
                change(&changed[index])
                result[factor, default: []].insert(render(changed))
            }
            for kind in FashionMNIST.classes where kind != order[index].kind { add(.class) { $0.kind = kind } }
            for colour in trainingColours where colour != order[index].colour { add(.colour) { $0.colour = colour } }
            let taken = order.map(\.position)
            for place in GridPosition.allCases where !taken.contains(place) {
                let others = taken.enumerated().filter { $0.offset != index }.map(\.element)
                if others.contains(where: { reservedPairs.contains(PositionPair($0, place)) }) { continue }
                add(.place) { $0.position = place }
            }
        }
        return result
    }

    /// The ways a training caption can have been rendered: each training template and partial caption, each item
    /// order, with the factors it names.
    static func renderings(of items: [CaptionedItem]) -> [(text: String, factors: [FashionFactor], render: ([CaptionedItem]) -> String, order: [CaptionedItem])] {
        var orders: [[CaptionedItem]] = [[]]
        for _ in items.indices {
            orders = orders.flatMap { prefix in items.filter { !prefix.contains($0) }.map { prefix + [$0] } }
        }
        var renderers: [(factors: [FashionFactor], render: ([CaptionedItem]) -> String)] = []
        for template in CaptionTemplate.chinese + CaptionTemplate.english
        where !reserved.chineseTemplates.contains(template.id) && !reserved.englishTemplates.contains(template.id) {
            renderers.append((FashionFactor.allCases, template.caption))
        }
        let partialFactors: [PartialCaption: [FashionFactor]] = [.things: [.class], .colours: [.class, .colour], .places: [.class, .place]]
        for kind in PartialCaption.allCases {
            renderers.append((partialFactors[kind]!, kind.chinese))
            renderers.append((partialFactors[kind]!, kind.english))
        }
        return renderers.flatMap { renderer in
            orders.map { order in (renderer.render(order), renderer.factors, renderer.render, order) }
        }
    }

    @Test("a foil is its caption with one factor of one item changed, one per factor the caption names")
    func foilerRules() {
        let classes = FashionMNIST.classes
        let dress = CaptionedItem(kind: classes[3], colour: TintColour.named("red")!, position: .topLeft)
        let boots = CaptionedItem(kind: classes[9], colour: TintColour.named("black")!, position: .bottomRight)
        let foiler = FashionFoiler(colours: Self.trainingColours, reservedPairs: Self.reservedPairs)
        var random = LoaderRandom(seed: 3)
        for template in [CaptionTemplate.chinese[0], CaptionTemplate.english[1]] {
            let caption = RenderedCaption(template, [dress, boots])
            let allowed = Self.oneChange([dress, boots], render: template.caption)
            for _ in 0..<20 {
                let foils = foiler.foils(of: caption, excluding: [caption.text], random: &random)
                #expect(foils.count == 3)
                for (foil, factor) in zip(foils, FashionFactor.allCases) {
                    #expect(allowed[factor]!.contains(foil), "\(factor): \(foil)")
                }
            }
        }
        let things = RenderedCaption(.things, .english, [dress, boots])
        let foils = foiler.foils(of: things, excluding: [things.text], random: &random)
        #expect(foils.count == 1)
        #expect(Self.oneChange([dress, boots], render: PartialCaption.things.english)[.class]!.contains(foils[0]))
        // A foil that is one of the record's own captions is left out.
        let single = RenderedCaption(.things, .english, [dress])
        let every = Set(FashionMNIST.classes.map { PartialCaption.things.english([CaptionedItem(kind: $0, colour: dress.colour, position: dress.position)]) })
        #expect(foiler.foils(of: single, excluding: every, random: &random).isEmpty)
    }

    @Test("training records: every caption's foils change one factor it names; images and captions are unchanged")
    func trainingRecords() throws {
        let plain = try Self.scenes(.train, count: 150, hardNegatives: false)
        let foiled = try Self.scenes(.train, count: 150)
        var foilCount = 0
        var factorsSeen: [FashionFactor: Int] = [:]
        for (without, scene) in zip(plain, foiled) {
            #expect(without.items == scene.items)
            #expect(without.chinese == scene.chinese && without.english == scene.english)
            #expect(without.extraCaptions == scene.extraCaptions)
            #expect(without.hardNegatives.isEmpty && without.record(imageSize: 64).hardNegatives == nil)

            let record = scene.record(imageSize: 64)
            let texts = Set(record.texts)
            #expect(Set(scene.hardNegatives.keys) == texts, "every caption has hard negatives")
            let items = scene.items.map { CaptionedItem(kind: $0.kind, colour: $0.colour, position: $0.position) }
            let renderings = Self.renderings(of: items)
            for (caption, foils) in record.hardNegatives ?? [:] {
                #expect(record.hardNegatives(of: caption) == foils)
                let sources = renderings.filter { $0.text == caption }
                #expect(!sources.isEmpty, "no rendering gives '\(caption)'")
                for foil in foils {
                    #expect(!texts.contains(foil))
                    // Some rendering of the caption turns into the foil by one change of a factor it names.
                    let factor = sources.lazy.compactMap { source in
                        source.factors.first { Self.oneChange(source.order, render: source.render)[$0]?.contains(foil) == true }
                    }.first
                    #expect(factor != nil, "'\(foil)' is not '\(caption)' with one factor changed")
                    if let factor { factorsSeen[factor, default: 0] += 1 }
                    foilCount += 1
                }
            }
        }
        #expect(foilCount > 150 * 10)
        #expect(FashionFactor.allCases.allSatisfy { factorsSeen[$0, default: 0] > 100 }, "\(factorsSeen)")
    }

    @Test("evaluation splits carry no hard negatives")
    func evaluationSplits() throws {
        for split in [FashionCaptionSplit.test, .rephrased, .zeroShot] {
            for scene in try Self.scenes(split, count: 30) {
                #expect(scene.hardNegatives.isEmpty && scene.record(imageSize: 64).hardNegatives == nil)
            }
        }
    }
}
