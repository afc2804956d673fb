import Foundation

/// Builds a person-name lexicon from jieba's dictionary (`dict.txt`: "word frequency POS" lines, POS `nr` = person
/// name).
///
/// jieba's `nr` tag is noisy: besides names it covers surnames alone (王, 李), ordinary words (明白, 阳光, 文明,
/// 小姐), transliterated places (莫斯科, 阿根廷), idioms (金碧辉煌) and fragments (黄蓉惊). Replacing those would
/// damage ordinary captions, so an entry is kept only when all of these hold:
/// - it is all Han characters, 3 long with a common single surname first, or 3–4 long with a compound surname
///   first (欧阳, 司马, …) — two-character `nr` entries are mostly ordinary words, so they are out by default;
/// - its jieba frequency is at least `minimumFrequency` (the rarest entries are mostly segmentation fragments);
/// - it does not end in a character that heads place and thing names (市, 县, 寺, 湖, 桥, …);
/// - it is not on the stop list (built-in false positives seen in jieba's list, plus the user's).
///
/// The result is a plain lexicon file the user can review, extend or replace.
public struct NameLexiconBuilder: Sendable {
    public struct Options: Sendable, Codable, Equatable {
        public var minimumLength: Int
        public var maximumLength: Int
        public var minimumFrequency: Int
        /// Require a common surname first (see ``NameLexiconBuilder/singleSurnames``).
        public var requireSurname: Bool
        public var extraStopWords: [String]

        public init(
            minimumLength: Int = 3, maximumLength: Int = 4, minimumFrequency: Int = 3, requireSurname: Bool = true,
            extraStopWords: [String] = []
        ) {
            self.minimumLength = minimumLength
            self.maximumLength = maximumLength
            self.minimumFrequency = minimumFrequency
            self.requireSurname = requireSurname
            self.extraStopWords = extraStopWords
        }
    }

    public struct Result: Sendable {
        public var names: [String]
        /// `nr` entries read.
        public var candidates: Int
        /// Why the other candidates were left out, by filter (first failing filter).
        public var excluded: [String: Int]
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    public func build(jiebaDictionary path: String) throws -> Result {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.io(file: path, message: "cannot read the jieba dictionary")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError.invalidRecord(file: path, line: 1, reason: "the dictionary is not valid UTF-8")
        }
        return build(dictionaryText: text)
    }

    /// Same as `build(jiebaDictionary:)` on the text of a dictionary.
    public func build(dictionaryText text: String) -> Result {
        let stopWords = Set(NameLexiconBuilder.stopWords).union(options.extraStopWords)
        var names: [String] = []
        var seen = Set<String>()
        var candidates = 0
        var excluded: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, fields[2] == "nr" else { continue }
            candidates += 1
            let word = String(fields[0])
            let frequency = Int(fields[1]) ?? 0
            if let reason = exclusionReason(word: word, frequency: frequency, stopWords: stopWords) {
                excluded[reason, default: 0] += 1
            } else if seen.insert(word).inserted {
                names.append(word)
            }
        }
        return Result(names: names.sorted(), candidates: candidates, excluded: excluded)
    }

    /// The first filter `word` fails, or nil when it is kept.
    func exclusionReason(word: String, frequency: Int, stopWords: Set<String>) -> String? {
        let scalars = Array(word.unicodeScalars)
        guard scalars.allSatisfy({ TextScalars.isHan($0.value) }) else { return "not_all_han" }
        let compound = scalars.count >= 3 && NameLexiconBuilder.compoundSurnames.contains(String(word.prefix(2)))
        let maximum = compound ? options.maximumLength : min(options.maximumLength, 3)
        guard scalars.count >= options.minimumLength, scalars.count <= max(maximum, options.minimumLength) else {
            return "length"
        }
        guard frequency >= options.minimumFrequency else { return "frequency" }
        if options.requireSurname && !compound && !NameLexiconBuilder.singleSurnames.contains(scalars[0]) {
            return "no_surname"
        }
        if NameLexiconBuilder.placeSuffixes.contains(scalars[scalars.count - 1]) { return "place_suffix" }
        if stopWords.contains(word) { return "stop_word" }
        return nil
    }

    /// The ~190 most common single-character surnames (covering the great majority of the population), leaving out
    /// ones that mostly start ordinary words (文, 安, 明, 和, …).
    public static let singleSurnames: Set<Unicode.Scalar> = Set(
        ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭"
            + "陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤温康施牛樊葛"
            + "邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关焦俞左柳甘祝包宁尚舒阮柯纪梅童凌毕季裴霍涂苗谷盛翁冉骆蓝辛靳柴鲍华祁"
            + "蒲房滕屈饶艾尤穆卓缪褚娄窦戚岑景费晏卫瞿臧姬栾甄虞诸葛岑欧司").unicodeScalars)

    public static let compoundSurnames: Set<String> = [
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "长孙", "慕容", "令狐", "宇文", "独孤", "南宫",
        "西门", "夏侯", "轩辕", "端木", "司徒", "司空", "呼延", "澹台", "拓跋", "耶律", "完颜", "钟离", "百里", "东郭",
    ]

    /// Last characters of place and thing names (市 city, 县 county, 寺 temple, 湖 lake, 桥 bridge, 口 pass/port, 证
    /// certificate, 素 -in, 赛 match…), seen ending jieba's `nr` false positives (石家庄, 张家口, 许可证, 胡萝卜).
    public static let placeSuffixes: Set<Unicode.Scalar> = Set(
        "市县区省州郡镇乡村庄寺庙殿宫楼桥湖河港湾岛岭口街路园馆院站厂店族城庵塔亭阁洞渠坝矿素酸病菌类科系队营周节赛会杯证监线期砂豹鱼卜顿嫩"
            .unicodeScalars)

    /// `nr` entries of jieba's list that pass the filters above but are ordinary words, titles or places.
    public static let stopWords: [String] = [
        "莫斯科", "黄金周", "杜鹃花", "金银花", "马铃薯", "马克杯", "高尔夫", "高跟鞋", "华尔街", "华尔兹", "白头翁",
        "白玉兰", "石榴石", "金刚石", "金字塔", "孔雀石", "黄鹤楼", "黄金甲", "龙卷风", "龙舌兰", "方便面", "高速公路",
        "马拉松", "马赛克", "金丝雀", "金丝猴", "梅花鹿", "丁香花", "杨柳青", "白杨树", "江南春", "万年青", "常春藤",
        "柯基犬", "钱塘江", "夏威夷", "汤姆猫", "马尾松", "西门子", "牛头山", "胡杨林", "金元宝", "唐贞观", "于城邦",
        "黄瓦飞", "黄瓦朱", "石英砂", "梅雨期", "老太太", "小姑娘",
    ]
}
