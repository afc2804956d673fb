import ArgumentParser
import BriVLData
import FashionCorpora
import Foundation

extension BriVL {
    struct FashionVQA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fashion-vqa",
            abstract: "Generate a Chinese–English multiple-choice VQA set from Fashion-MNIST.",
            discussion: """
                Each image holds 1–3 tinted clothing items at named places of a 3×3 layout (the canvases of \
                `brivl data fashion-captions`). Each gets questions of different kinds, in Chinese or English: what \
                is at a place (左上角是什么？ / What is in the top left?), an item's colour (连衣裙是什么颜色的？ / What \
                colour is the dress?), where an item is (包在哪里？ / Where is the bag?) and how many items there are \
                (图中有几件物品？ / How many items are there?), each with the answer and distractors of the same kind. \
                train/ and test/ hold images/*.png and questions.jsonl (items from Fashion-MNIST's training and test \
                images); vqa.json has the counts. The same seed gives the same set. Evaluate with `brivl eval vqa`.
                """)

        /// The library's settings, where every default below comes from.
        static let defaults = FashionVQACorpus.Configuration(outputDirectory: "")

        @Option(name: .shortAndLong, help: "Output folder (train/, test/, vqa.json).")
        var output: String

        @Option(help: "Folder with Fashion-MNIST's idx files, .gz or not.")
        var source: String = defaults.sourceDirectory

        @Option(help: "Training images (items from Fashion-MNIST's training images).")
        var train: Int = defaults.trainImages

        @Option(help: "Test images (items from the test images).")
        var test: Int = defaults.testImages

        @Option(help: "Questions per image, each of a different kind (1–4).")
        var questionsPerImage: Int = defaults.questionsPerImage

        @Option(help: "Options per question, the answer included (2–4).")
        var options: Int = defaults.optionCount

        @Option(help: "Side of the square images in pixels.")
        var imageSize: Int = defaults.imageSize

        @Option(help: "Seed; the same seed gives the same set.")
        var seed: UInt64 = defaults.seed

        func validate() throws {
            for (name, value) in [("--train", train), ("--test", test)] where value < 0 {
                throw ValidationError("\(name) must not be negative, got \(value)")
            }
            if train + test == 0 { throw ValidationError("nothing to generate: --train and --test are both 0") }
            if imageSize < 24 { throw ValidationError("--image-size must be at least 24, got \(imageSize)") }
            if !(1...FashionVQAKind.allCases.count).contains(questionsPerImage) {
                throw ValidationError("--questions-per-image must lie in 1...\(FashionVQAKind.allCases.count)")
            }
            if !(2...FashionVQAQuestionWriter.maximumOptionCount).contains(options) {
                throw ValidationError("--options must lie in 2...\(FashionVQAQuestionWriter.maximumOptionCount)")
            }
        }

        func run() throws {
            let corpus = FashionVQACorpus(
                .init(
                    sourceDirectory: source, outputDirectory: output, trainImages: train, testImages: test,
                    questionsPerImage: questionsPerImage, optionCount: options, imageSize: imageSize, seed: seed))
            let start = Date()
            let progress = ProgressBar("composing")
            var written = 0
            let manifest = try corpus.run { done, total in
                written = done
                progress.update(done, total: total)
            }
            progress.finish(written)
            print("vqa set         \(output) (seed \(manifest.seed), \(manifest.imageSize)×\(manifest.imageSize) px, "
                + "\(manifest.optionCount) options)")
            for split in FashionVQACorpus.splits {
                guard let entry = manifest.splits[split.rawValue] else { continue }
                let types = entry.types.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                let kinds = entry.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("\(split.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(entry.images) images, "
                    + "\(entry.questions) questions (\(types); \(kinds)), items from \(entry.source)")
            }
            print(String(format: "time            %.1f s", Date().timeIntervalSince(start)))
        }
    }
}
