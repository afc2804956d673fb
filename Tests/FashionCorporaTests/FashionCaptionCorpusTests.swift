import FileTestSupport
import Foundation
import Imaging
import Testing

@testable import BriVLData
@testable import FashionCorpora

@Suite("FashionCaption: composing, captioning and writing the corpus")
struct FashionCaptionCorpusTests {
    /// Held-out factors as the tests see them, recomputed from a scene's content rather than taken from the scene.
    static func heldOutFactors(_ scene: FashionScene, _ reserved: FashionCaptionReservation) -> Set<String> {
        var factors = Set<String>()
        for template in [scene.chineseTemplate, scene.englishTemplate]
        where (reserved.chineseTemplates + reserved.englishTemplates).contains(template) {
            factors.insert("template:\(template)")
        }
        for item in scene.items where reserved.colours.contains(item.colour.english) {
            factors.insert("colour:\(item.colour.english)")
        }
        let places = Set(scene.items.map(\.position))
        for pair in reserved.positionPairs where places.contains(pair.first) && places.contains(pair.second) {
            factors.insert("layout:\(pair.id)")
        }
        return factors
    }

    static func scenes(_ split: FashionCaptionSplit, count: Int, seed: UInt64 = 0) throws -> [FashionScene] {
        let composer = try FashionCaptionComposer(.init(seed: seed))
        let source = try SyntheticFashionMNIST.load(count: 40)
        return try (0..<count).map { try composer.scene(split, index: $0, from: source) }
    }

    @Test("templates produce the expected sentences, with measure words, articles and pairs")
    func templateSentences() throws {
        let classes = FashionMNIST.classes
        let dress = CaptionedItem(kind: classes[3], colour: TintColour.named("red")!, position: .topLeft)
        let boots = CaptionedItem(kind: classes[9], colour: TintColour.named("black")!, position: .bottomRight)
        let bag = CaptionedItem(kind: classes[8], colour: TintColour.named("orange")!, position: .centre)
        func caption(_ id: String, _ items: [CaptionedItem]) -> String { CaptionTemplate.named(id)!.caption(items) }

        #expect(caption("zh-0", [dress, boots]) == "左上角有一件红色的连衣裙，右下角有一双黑色的短靴")
        #expect(caption("zh-1", [dress, boots]) == "图中有一件红色的连衣裙和一双黑色的短靴，分别位于左上角和右下角")
        #expect(caption("zh-3", [dress, boots, bag]) == "画面中共有三样东西：左上角是一件红色的连衣裙，右下角是一双黑色的短靴，中间是一个橙色的包")
        #expect(caption("zh-3", [bag]) == "画面中只有一样东西：中间是一个橙色的包")
        #expect(caption("en-0", [dress, boots]) == "a red dress in the top left and a pair of black ankle boots in the bottom right")
        #expect(caption("en-2", [dress, boots]) == "the red dress is in the top left and the black ankle boots are in the bottom right")
        #expect(caption("en-1", [bag]) == "there is an orange bag in the centre")
        #expect(caption("en-3", [dress, boots, bag]).hasPrefix("three items: a red dress in the top left, a pair of"))
        #expect(caption("en-4", [dress, bag]) == "in the top left, a red dress; in the centre, an orange bag")
    }

    @Test("every caption names each item's colour, class and place in both languages")
    func captionsNameEveryItem() throws {
        for split in FashionCaptionSplit.allCases {
            for scene in try Self.scenes(split, count: 200) {
                for item in scene.items {
                    let kind = item.kind
                    #expect(scene.chinese.contains("\(item.colour.chinese)的\(kind.chinese)"), "\(scene.chinese)")
                    #expect(scene.chinese.contains(item.position.chinese), "\(scene.chinese)")
                    #expect(scene.english.contains("\(item.colour.english) \(kind.english)"), "\(scene.english)")
                    #expect(scene.english.contains(item.position.english), "\(scene.english)")
                }
                // Exactly one colour word per item: nothing extra is named.
                let colourMentions = TintColour.palette.reduce(0) {
                    $0 + scene.chinese.components(separatedBy: $1.chinese).count - 1
                }
                #expect(colourMentions == scene.items.count, "\(scene.chinese)")
            }
        }
    }

    @Test("the same seed gives the same scenes and images; another seed does not")
    func deterministic() throws {
        let source = try SyntheticFashionMNIST.load(count: 40)
        let first = try FashionCaptionComposer(.init(seed: 7))
        let again = try FashionCaptionComposer(.init(seed: 7))
        let other = try FashionCaptionComposer(.init(seed: 8))
        var differences = 0
        for split in FashionCaptionSplit.allCases {
            for index in 0..<30 {
                let (scene, sample) = try first.sample(split, index: index, from: source)
                let (sceneAgain, sampleAgain) = try again.sample(split, index: index, from: source)
                #expect(scene == sceneAgain)
                #expect(sample == sampleAgain)
                if try other.scene(split, index: index, from: source) != scene { differences += 1 }
            }
        }
        #expect(differences > 80)

        // Composing on every core gives the samples one-by-one composing gives, in index order.
        let batch = try FashionCaptionCorpus.compose(.test, 5..<45, with: first, from: source)
        #expect(batch.map(\.1.key) == (5..<45).map { String(format: "%09d", $0) })
        for (offset, (scene, sample)) in batch.enumerated() {
            let (expectedScene, expectedSample) = try again.sample(.test, index: 5 + offset, from: source)
            #expect(scene == expectedScene && sample == expectedSample)
        }
    }

    @Test("train never uses a held-out template, colour or layout; test uses each of them and says so")
    func heldOutFactorsStayOutOfTraining() throws {
        let reserved = FashionCaptionReservation.standard
        for scene in try Self.scenes(.train, count: 600) {
            #expect(Self.heldOutFactors(scene, reserved).isEmpty, "\(scene.chinese) / \(scene.english)")
            #expect(scene.reservedFactors.isEmpty)
            #expect(scene.record(imageSize: 64).metadata?["reserved"] == "")
        }
        var seen = Set<String>()
        var withoutHeldOut = 0
        for scene in try Self.scenes(.test, count: 600) {
            let factors = Self.heldOutFactors(scene, reserved)
            #expect(Set(scene.reservedFactors) == factors)
            #expect(scene.record(imageSize: 64).metadata?["reserved"] == scene.reservedFactors.joined(separator: ","))
            seen.formUnion(factors)
            if factors.isEmpty { withoutHeldOut += 1 }
        }
        let every = Set(
            (reserved.chineseTemplates + reserved.englishTemplates).map { "template:\($0)" }
                + reserved.colours.map { "colour:\($0)" } + reserved.positionPairs.map { "layout:\($0.id)" })
        #expect(seen == every)
        // Seen factors appear too, so the test split compares the two.
        #expect(withoutHeldOut > 50)
    }

    @Test("items keep to their own cells, and pixels are tinted where the record says and background elsewhere")
    func pixelsMatchRecord() throws {
        let configuration = FashionCaptionConfiguration(imageSize: 72, seed: 3)
        let composer = try FashionCaptionComposer(configuration)
        let source = try SyntheticFashionMNIST.load(count: 40)
        let cell = 72 / 3
        for index in 0..<40 {
            let (scene, sample) = try composer.sample(.test, index: index, from: source)
            let record = try PairRecord.decode(from: sample)
            let metadata = try #require(record.metadata)
            let colours = metadata["colours"]!.split(separator: ",").map { TintColour.named(String($0))! }
            let positions = metadata["positions"]!.split(separator: ",").map { GridPosition(id: String($0))! }
            let boxes = metadata["boxes"]!.split(separator: ";").map { $0.split(separator: ",").map { Int($0)! } }
            #expect(colours.count == scene.items.count && positions.count == colours.count && boxes.count == colours.count)
            #expect(Set(positions).count == positions.count)

            let image = try ImageDecoder.decode(data: sample.files["png"]!)
            #expect(image.width == 72 && image.height == 72)
            var owner = [Int?](repeating: nil, count: 72 * 72)
            for (item, box) in boxes.enumerated() {
                let (x, y, side) = (box[0], box[1], box[2])
                // Inside its cell and sized by the configured scale.
                #expect(x >= positions[item].column * cell && x + side <= (positions[item].column + 1) * cell)
                #expect(y >= positions[item].row * cell && y + side <= (positions[item].row + 1) * cell)
                #expect(side >= Int(0.7 * Double(cell)) && side <= cell)
                for row in y..<(y + side) { for column in x..<(x + side) { owner[row * 72 + column] = item } }
            }
            for row in 0..<72 {
                for column in 0..<72 {
                    let expected = owner[row * 72 + column].map { colours[$0].pixel } ?? configuration.background
                    let pixel = image[column, row]
                    let distance = max(
                        abs(Int(pixel.red) - Int(expected.red)), abs(Int(pixel.green) - Int(expected.green)),
                        abs(Int(pixel.blue) - Int(expected.blue)))
                    if distance > 1 {
                        Issue.record("sample \(index) pixel (\(column), \(row)) is \(pixel), expected \(expected)")
                        return
                    }
                }
            }
        }
    }

    @Test("the grey level of an item blends the background towards its colour")
    func greyLevelsBlend() throws {
        #expect(FashionCaptionComposer.blend(240, 20, 0) == 240)
        #expect(FashionCaptionComposer.blend(240, 20, 255) == 20)
        #expect(FashionCaptionComposer.blend(240, 20, 128) == 130)
    }

    @Test("dim items still show their full colour, and levels below the median stay partly transparent")
    func dimItemsAreStretched() throws {
        let gain = FashionCaptionComposer.maskGain([0, 10, 50, 100, 200])
        #expect((100 * gain + 128) >> 8 == 255)
        #expect((50 * gain + 128) >> 8 == 128)
        #expect(FashionCaptionComposer.maskGain([UInt8](repeating: 255, count: 9)) == 256)

        let side = SyntheticFashionMNIST.side
        let dim = try FashionMNIST(
            images: IDXFile(bytes: idxBytes(dimensions: [1, side, side], values: [UInt8](repeating: 90, count: side * side)), file: "i"),
            labels: IDXFile(bytes: idxBytes(dimensions: [1], values: [4]), file: "l"), source: "dim")
        let composer = try FashionCaptionComposer(.init())
        let scene = try composer.scene(.zeroShot, index: 0, from: dim)
        let item = scene.items[0]
        let image = try composer.render(scene, from: dim)
        #expect(image[item.x + item.side / 2, item.y + item.side / 2] == item.colour.pixel)
    }

    @Test("zero-shot images hold one item, carry its label, and cycle through the classes")
    func zeroShotSplit() throws {
        let scenes = try Self.scenes(.zeroShot, count: 50)
        var perClass = [Int](repeating: 0, count: 10)
        for scene in scenes {
            #expect(scene.items.count == 1)
            let record = scene.record(imageSize: 64)
            #expect(record.metadata?["label"] == String(scene.items[0].label))
            perClass[scene.items[0].label] += 1
        }
        #expect(perClass == [Int](repeating: 5, count: 10))
    }

    @Test("impossible settings are configuration errors")
    func rejectsBadConfiguration() throws {
        var tooSmall = FashionCaptionConfiguration()
        tooSmall.imageSize = 12
        #expect(throws: DataError.self) { try FashionCaptionComposer(tooSmall) }
        var unknownColour = FashionCaptionConfiguration()
        unknownColour.reserved.colours = ["mauve"]
        do {
            _ = try FashionCaptionComposer(unknownColour)
            Issue.record("an unknown held-out colour was accepted")
        } catch DataError.invalidConfiguration(let message) {
            #expect(message.contains("'mauve'"))
        }
        var allTemplates = FashionCaptionConfiguration()
        allTemplates.reserved.englishTemplates = CaptionTemplate.english.map(\.id)
        #expect(throws: DataError.self) { try FashionCaptionComposer(allTemplates) }
        var scale = FashionCaptionConfiguration()
        scale.itemScale = 0.5...1.5
        #expect(throws: DataError.self) { try FashionCaptionComposer(scale) }
    }

    @Test("the corpus reads back with ShardReader and its counts match the manifest")
    func writesCorpus() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/source"
            let output = directory + "/corpus"
            try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
            try SyntheticFashionMNIST.write(in: source)
            let configuration = FashionCaptionCorpus.Configuration(
                sourceDirectory: source, outputDirectory: output, trainSamples: 45, testSamples: 25, zeroShotSamples: 20,
                samplesPerShard: 10)
            var lastProgress = (0, 0)
            let manifest = try FashionCaptionCorpus(configuration).run { lastProgress = ($0, $1) }
            #expect(lastProgress == (115, 115))  // test-rephrased holds the 25 test images again
            #expect(try FashionCaptionManifest.read(from: output + "/corpus.json") == manifest)
            #expect(manifest.reserved.colours == ["orange", "purple"])
            #expect(manifest.reserved.layouts.contains("top-left+bottom-right"))

            for split in FashionCaptionSplit.allCases {
                let entry = try #require(manifest.splits[split.rawValue])
                #expect(entry.samples == configuration.samples(split))
                #expect(entry.source == (split == .train ? "train" : "t10k"))
                let (index, paths) = try ShardIndex.discover(in: output + "/" + entry.directory)
                #expect(index.shards.count == entry.shards)
                var count = 0
                var usingReserved = 0
                for path in paths {
                    let reader = try ShardReader(path: path)
                    while let sample = try reader.nextSample() {
                        count += 1
                        #expect(Set(sample.files.keys) == ["png", "json"])
                        let record = try PairRecord.decode(from: sample)
                        // Training records hold the varied captions; evaluation records one caption per language.
                        if split == .train { #expect(record.texts.count > 2) } else { #expect(record.texts.count == 2) }
                        #expect(record.metadata?["split"] == split.rawValue)
                        #expect(record.width == 64 && record.height == 64)
                        if record.metadata?["reserved"]?.isEmpty == false { usingReserved += 1 }
                        let image = try ImageDecoder.decode(data: sample.files["png"]!)
                        #expect(image.width == 64 && image.height == 64)
                    }
                }
                #expect(count == entry.samples)
                #expect(usingReserved == entry.samplesUsingReserved)
            }
            #expect(manifest.splits["train"]?.samplesUsingReserved == 0)

            let classes = try ZeroShotClassList.read(from: output + "/classes.json")
            #expect(classes.classes.count == 10)
            #expect(classes.prompts(for: 9).english.contains("a photo of a pair of ankle boots"))
            #expect(classes.prompts(for: 3).chinese.contains("一张连衣裙的照片"))
            func templates(_ name: String) throws -> [String] {
                let text = try String(contentsOfFile: output + "/" + name, encoding: .utf8)
                return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
            }
            #expect(try templates("prompts-held-out.txt") == FashionCaptionCorpus.heldOutPrompts)
            #expect(try templates("prompts-bare.txt") == ["{}"])

            // A second run into the same folder would mix two corpora.
            do {
                try FashionCaptionCorpus(configuration).run()
                Issue.record("a second run into a finished corpus succeeded")
            } catch DataError.invalidConfiguration(let message) {
                #expect(message.contains("already holds a corpus"))
            }
        }
    }

    @Test("a corpus run without the source files fails before writing anything")
    func missingSourceFails() throws {
        try withTemporaryDirectory { directory in
            let output = directory + "/corpus"
            let configuration = FashionCaptionCorpus.Configuration(
                sourceDirectory: directory + "/nowhere", outputDirectory: output, trainSamples: 5, testSamples: 0,
                zeroShotSamples: 0)
            do {
                try FashionCaptionCorpus(configuration).run()
                Issue.record("a run without source files succeeded")
            } catch DataError.io(_, let message) {
                #expect(message.contains("dataset-fashion-mnist"))
            }
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }
}
