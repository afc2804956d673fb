import FileTestSupport
import Foundation
import Testing

@testable import BriVLData

@Suite("Cleaning: boilerplate mining")
struct CleanBoilerplateTests {
    /// Captions built from ordinary words in random order, with planted boilerplate and one very frequent ordinary
    /// four-character word placed inside sentences.
    static func corpus(count: Int, seed: UInt64) -> [String] {
        var random = LoaderRandom(seed: seed)
        let subjects = ["猫咪", "狗狗", "孩子", "老人", "女孩", "男孩", "汽车", "飞机", "鲜花", "高楼", "鸟儿", "骏马"]
        let adjectives = ["红色的", "可爱的", "巨大的", "安静的", "明亮的", "古老的", "温暖的", "干净的"]
        let places = ["草地上", "公园里", "海边", "城市中", "山顶上", "房间里", "街道上", "湖边"]
        let actions = ["奔跑", "睡觉", "玩耍", "发光", "停着", "飞翔", "微笑", "等待", "盛开"]
        var captions: [String] = []
        for _ in 0..<count {
            var caption = random.element(adjectives) + random.element(subjects) + "在" + random.element(places)
            if random.below(100) < 30 { caption += "非常漂亮地" }
            caption += random.element(actions)
            if random.below(100) < 40 { caption += "，" + random.element(adjectives) + random.element(subjects) }
            let roll = random.below(100)
            if roll < 15 {
                caption += random.element(["", " ", "，", " | "]) + "查看原网页"
            } else if roll < 25 {
                caption += random.element(["…", " ", "。"]) + "展开全文"
            } else if roll < 33 {
                caption = "【点击查看大图】" + caption
            }
            captions.append(caption)
        }
        return captions
    }

    @Test("finds planted phrases, not ordinary frequent words or pieces of the phrases")
    func plantedPhrases() {
        var miner = BoilerplateMiner(options: .init(minimumCount: 100, minimumLength: 4, maximumLength: 12))
        for caption in Self.corpus(count: 3000, seed: 5) { miner.add(caption: caption) }
        let phrases = miner.mine().map(\.phrase)
        #expect(Set(phrases) == ["查看原网页", "展开全文", "点击查看大图"], "\(phrases)")
        #expect(!phrases.contains("非常漂亮"))
    }

    @Test("identical captions count once")
    func duplicatesCountOnce() {
        var miner = BoilerplateMiner(options: .init(minimumCount: 10))
        for _ in 0..<500 { miner.add(caption: "一只猫 查看原网页") }
        #expect(miner.distinctCaptions == 1)
        #expect(miner.duplicateCaptions == 499)
        #expect(miner.mine().isEmpty)
    }

    @Test("mines captions straight from shards, json and txt")
    func fromShards() throws {
        try withTemporaryDirectory { directory in
            let captions = Self.corpus(count: 600, seed: 9)
            var samples: [Sample] = []
            for (index, caption) in captions.enumerated() {
                let key = String(format: "%06d", index)
                if index % 2 == 0 {
                    samples.append(Sample(key: key, files: ["jpg": Data([1]), "json": CleanFixtures.record([caption])]))
                } else {
                    samples.append(Sample(key: key, files: ["jpg": Data([1]), "txt": Data(caption.utf8)]))
                }
            }
            samples.append(Sample(key: "bad", files: ["txt": Data([0xFF, 0xFE])]))
            try CleanFixtures.writeShard(samples, to: directory + "/a.tar")
            var miner = BoilerplateMiner(options: .init(minimumCount: 30))
            let summary = try miner.addCaptions(fromShards: [directory + "/a.tar"])
            #expect(summary.samples == 601)
            #expect(summary.withoutCaption == 1)
            #expect(miner.mine().map(\.phrase).contains("查看原网页"))
        }
    }
}
