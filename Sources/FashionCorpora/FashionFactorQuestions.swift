/// The factors a caption of this corpus names about each item.
public enum FashionFactor: String, CaseIterable, Sendable {
    case `class`
    case colour
    case place
}

/// One factor question about a single-item image: which of `candidates` (captions alike but for `factor`) is true.
public struct FashionFactorQuestion: Sendable, Equatable {
    public var factor: FashionFactor
    /// E.g. "zh-0".
    public var template: String
    public var candidates: [String]
    public var answer: Int
}

/// Factor questions for the single-item images of the zero-shot split: the item's true caption in a training
/// template, against the same caption with its class, its colour or its place changed to every other value.
/// Questions are asked in training templates on purpose — they measure what the model learnt to see, not whether
/// it generalises to new phrasings.
public enum FashionFactorQuestions {
    /// - Parameters:
    ///   - colours: the colours training captions use; an item in another colour gets no colour question (the
    ///     model never read its name), and only these compete.
    public static func questions(
        for item: CaptionedItem, templates: [CaptionTemplate], colours: [TintColour]
    ) -> [FashionFactorQuestion] {
        var questions: [FashionFactorQuestion] = []
        for template in templates {
            func ask(_ factor: FashionFactor, _ variants: [CaptionedItem], answer: Int) {
                questions.append(
                    FashionFactorQuestion(
                        factor: factor, template: template.id, candidates: variants.map { template.caption([$0]) },
                        answer: answer))
            }
            let classes = FashionMNIST.classes
            ask(
                .class, classes.map { CaptionedItem(kind: $0, colour: item.colour, position: item.position) },
                answer: classes.firstIndex(of: item.kind)!)
            if let answer = colours.firstIndex(of: item.colour) {
                ask(.colour, colours.map { CaptionedItem(kind: item.kind, colour: $0, position: item.position) }, answer: answer)
            }
            ask(
                .place, GridPosition.allCases.map { CaptionedItem(kind: item.kind, colour: item.colour, position: $0) },
                answer: item.position.rawValue)
        }
        return questions
    }

    /// The training templates of a corpus (those not held out), first of each language: the templates questions
    /// are asked in.
    public static func templates(heldOut reserved: FashionCaptionReservation) -> [CaptionTemplate] {
        let chinese = CaptionTemplate.chinese.first { !reserved.chineseTemplates.contains($0.id) }
        let english = CaptionTemplate.english.first { !reserved.englishTemplates.contains($0.id) }
        return [chinese, english].compactMap { $0 }
    }
}
