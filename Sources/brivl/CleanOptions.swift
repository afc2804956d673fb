import ArgumentParser
import BriVLData
import Foundation

/// The settings `brivl clean run` starts from; every default below is the library's.
private let defaults = CleaningConfiguration()

/// The image rules of `brivl clean run`.
struct CleanImageOptions: ParsableArguments {
    enum ImageCheck: String, ExpressibleByArgument, CaseIterable {
        case full, structural
    }

    @Option(help: "Drop when longer side / shorter side exceeds this (0 turns the rule off).")
    var maxAspectRatio: Double = defaults.image.maximumAspectRatio ?? 0

    @Option(help: "Drop when the shorter side is below this many pixels (0 turns the rule off).")
    var minSide: Int = defaults.image.minimumShorterSide ?? 0

    @Option(help: "JPEG quality of re-encoded images (1...100).")
    var jpegQuality: Int = defaults.image.jpegQuality ?? 90

    @Flag(help: "Keep image bytes as they are (no re-encoding; images are still fully decoded to check them).")
    var keepImageBytes = false

    @Option(help: "full: decode every pixel (libjpeg-turbo/libpng/libwebp) and re-encode; structural: only walk the file structure (faster, no re-encoding).")
    var imageCheck: ImageCheck = .full

    @Flag(help: "Fail images with recoverable JPEG corruption warnings too.")
    var strictDecode = false

    func validate() throws {
        if maxAspectRatio != 0 && maxAspectRatio < 1 {
            throw ValidationError("--max-aspect-ratio must be at least 1 (or 0 to turn the rule off)")
        }
        if minSide < 0 { throw ValidationError("--min-side cannot be negative") }
        if !(1...100).contains(jpegQuality) { throw ValidationError("--jpeg-quality must be in 1...100") }
    }

    var rules: CleaningConfiguration.ImageRules {
        .init(
            maximumAspectRatio: maxAspectRatio == 0 ? nil : maxAspectRatio,
            minimumShorterSide: minSide == 0 ? nil : minSide,
            jpegQuality: keepImageBytes || imageCheck == .structural ? nil : jpegQuality)
    }

    var codec: any CleaningImageCodec {
        imageCheck == .full ? ImagingCleaningCodec(strict: strictDecode) : StructuralImageCodec()
    }
}

/// The text rules of `brivl clean run` and the lexicons they use.
struct CleanTextOptions: ParsableArguments {
    @Option(help: "Language policy: zh (Chinese characters required), en (Latin letters required) or any.")
    var language: LanguagePolicy = defaults.text.language

    @Option(help: "Chinese characters a caption needs under --language zh.")
    var minChinese: Int = defaults.text.minimumChineseCharacters

    @Option(help: "Latin letters a caption needs under --language en.")
    var minLatin: Int = defaults.text.minimumLatinLetters

    @Option(help: "Sensitive-word lexicon (one entry per line); its words are masked with '*' per character.")
    var sensitiveLexicon: String?

    @Option(help: "Person-name lexicon (one name per line, e.g. from `brivl clean build-name-lexicon`).")
    var nameLexicon: String?

    @Option(help: "Build the name lexicon from jieba's dict.txt at start (when --name-lexicon is not given).")
    var jiebaDict: String?

    @Option(help: "Boilerplate list (reviewed output of `brivl clean mine-boilerplate`); default: a built-in list.")
    var boilerplate: String?

    @Flag(help: "Turn boilerplate removal off.")
    var noBoilerplate = false

    @Option(help: "What replaces a person name.")
    var namePlaceholder = defaults.text.namePlaceholder

    func validate() throws {
        if minChinese < 0 || minLatin < 0 { throw ValidationError("character minimums cannot be negative") }
        if boilerplate != nil && noBoilerplate {
            throw ValidationError("--boilerplate and --no-boilerplate contradict each other")
        }
        if nameLexicon != nil && jiebaDict != nil {
            throw ValidationError("give --name-lexicon or --jieba-dict, not both")
        }
        for path in [sensitiveLexicon, nameLexicon, jiebaDict, boilerplate].compactMap({ $0 })
        where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("cannot read \(path)")
        }
    }

    var rules: TextRulesConfiguration {
        var rules = defaults.text
        rules.language = language
        rules.minimumChineseCharacters = minChinese
        rules.minimumLatinLetters = minLatin
        rules.namePlaceholder = namePlaceholder
        return rules
    }

    /// Reads the lexicons (building the name lexicon from jieba's dictionary when asked to).
    func lexicons() throws -> TextLexicons {
        var names: Lexicon? = nil
        if let nameLexicon {
            names = try Lexicon.load(path: nameLexicon)
        } else if let jiebaDict {
            let built = try NameLexiconBuilder().build(jiebaDictionary: jiebaDict)
            names = Lexicon(source: "jieba:" + jiebaDict, entries: built.names)
        }
        return TextLexicons(
            sensitive: try sensitiveLexicon.map(Lexicon.load(path:)), names: names,
            boilerplate: noBoilerplate ? nil : try boilerplate.map(Lexicon.load(path:)) ?? Lexicon.defaultBoilerplate)
    }
}

/// The relevance filter and dedup of `brivl clean run`.
struct CleanRelevanceOptions: ParsableArguments {
    @Option(help: "A trained model (a `brivl train` run folder or one of its checkpoint folders) that scores each pair's image–caption cosine.")
    var relevanceModel: String?

    @Option(help: "With a relevance model, drop pairs whose cosine is below this.")
    var minRelevance: Float = defaults.relevance.minimumCosine

    @Flag(help: "Turn dedup off.")
    var noDedup = false

    @Option(help: "Decimals the relevance score is rounded to in the dedup key.")
    var dedupScoreDecimals: Int = defaults.dedup.scoreDecimals

    func validate() throws {
        if !(-1...1).contains(minRelevance) { throw ValidationError("--min-relevance is a cosine in [-1, 1]") }
        if !(0...6).contains(dedupScoreDecimals) { throw ValidationError("--dedup-score-decimals must be in 0...6") }
    }

    var relevance: CleaningConfiguration.Relevance { .init(minimumCosine: minRelevance) }
    var dedup: CleaningConfiguration.Dedup { .init(enabled: !noDedup, scoreDecimals: dedupScoreDecimals) }
}
