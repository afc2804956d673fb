import BriVLData

/// A training caption together with what it was rendered from, so that a hard negative can be rendered the same
/// way with one detail changed.
struct RenderedCaption {
    var text: String
    /// The items in the caption's order.
    var items: [CaptionedItem]
    /// The factors the caption names about each item.
    var factors: [FashionFactor]
    var render: @Sendable ([CaptionedItem]) -> String

    init(items: [CaptionedItem], factors: [FashionFactor], render: @escaping @Sendable ([CaptionedItem]) -> String) {
        self.items = items
        self.factors = factors
        self.render = render
        text = render(items)
    }

    init(_ template: CaptionTemplate, _ items: [CaptionedItem]) {
        self.init(items: items, factors: FashionFactor.allCases) { template.caption($0) }
    }

    init(_ partial: PartialCaption, _ language: CaptionTemplate.Language, _ items: [CaptionedItem]) {
        let factors: [FashionFactor]
        switch partial {
        case .things: factors = [.class]
        case .colours: factors = [.class, .colour]
        case .places: factors = [.class, .place]
        }
        self.init(items: items, factors: factors) { items in
            language == .chinese ? partial.chinese(items) : partial.english(items)
        }
    }
}

/// Writes the hard negatives of a training caption (NegCLIP's foils): for each factor the caption names, the same
/// caption, in the same phrasing and item order, with that factor of one item changed —
/// - class: to any other class;
/// - colour: to another training colour (held-out colours stay unread, as in the captions);
/// - place: to a free place, never completing a held-out layout.
///
/// Because a foil is rendered by the caption's own template, it is as grammatical as the caption, and only the
/// picture can tell them apart.
struct FashionFoiler: Sendable {
    let colours: [TintColour]
    let reservedPairs: Set<PositionPair>

    /// One foil per factor of `caption` that can be changed; none equals a caption in `truths`.
    func foils(of caption: RenderedCaption, excluding truths: Set<String>, random: inout LoaderRandom) -> [String] {
        var foils: [String] = []
        for factor in caption.factors {
            var items = caption.items
            let index = random.below(items.count)
            switch factor {
            case .class:
                let others = FashionMNIST.classes.filter { $0 != items[index].kind }
                items[index].kind = others[random.below(others.count)]
            case .colour:
                let others = colours.filter { $0 != items[index].colour }
                guard !others.isEmpty else { continue }
                items[index].colour = others[random.below(others.count)]
            case .place:
                let taken = items.map(\.position)
                let others = GridPosition.allCases.filter { place in
                    !taken.contains(place)
                        && !taken.enumerated().contains { $0.offset != index && reservedPairs.contains(PositionPair($0.element, place)) }
                }
                guard !others.isEmpty else { continue }
                items[index].position = others[random.below(others.count)]
            }
            let foil = caption.render(items)
            if foil != caption.text, !truths.contains(foil), !foils.contains(foil) { foils.append(foil) }
        }
        return foils
    }
}
