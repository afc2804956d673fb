import BriVLData

/// Classes divided into seen ones (whose images may be used to adapt the model) and unseen ones (on which the
/// model is then evaluated), as in WenLan 2.0's remote-sensing table: "unseen/seen" ratios such as 30/0, 8/22, 12/18.
public struct ClassSplit: Sendable, Equatable, Codable {
    public var seen: [Int]
    public var unseen: [Int]

    /// A ratio written as the seeds write it, `unseen/seen` (e.g. "8/22").
    public struct Ratio: Sendable, Equatable, CustomStringConvertible {
        public var unseen: Int
        public var seen: Int

        public init(unseen: Int, seen: Int) {
            self.unseen = unseen
            self.seen = seen
        }

        public init(parsing text: String) throws {
            let parts = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let unseen = parts[0], let seen = parts[1], unseen >= 1, seen >= 0 else {
                throw EvaluationError.invalidArgument("a class ratio is `unseen/seen` with unseen ≥ 1, e.g. 8/22; got '\(text)'")
            }
            self.init(unseen: unseen, seen: seen)
        }

        public var description: String { "\(unseen)/\(seen)" }
    }

    /// `count` random splits at `ratio`, reproducible by seed (the same seed, class count and ratio give the same
    /// splits). With no seen class there is only one split, so one is returned.
    public static func draw(classes: Int, ratio: Ratio, count: Int, seed: UInt64) throws -> [ClassSplit] {
        guard ratio.unseen + ratio.seen == classes else {
            throw EvaluationError.invalidArgument(
                "ratio \(ratio) does not cover the \(classes) classes (unseen + seen must equal \(classes))")
        }
        guard count >= 1 else { throw EvaluationError.invalidArgument("at least one split is needed") }
        if ratio.seen == 0 { return [ClassSplit(seen: [], unseen: Array(0..<classes))] }
        // The loader's generator: its shuffle does not depend on how the standard library draws integers.
        var random = LoaderRandom(seed: seed ^ (UInt64(ratio.unseen) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(classes) << 48)
        return (0..<count).map { _ in
            var order = Array(0..<classes)
            random.shuffle(&order)
            return ClassSplit(seen: order[ratio.unseen...].sorted(), unseen: order[..<ratio.unseen].sorted())
        }
    }
}
