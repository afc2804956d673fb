import ArgumentParser
import BriVLEvaluation
import BriVLInference
import Foundation

extension BriVL.Eval {
    struct VQA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vqa",
            abstract: "VQA as contrastive multiple choice: zero-shot, then fine-tuned on training questions.",
            discussion: """
                Each option of a question is scored by the cosine between the image and the text "question option"; \
                the best-scoring option is the model's answer. Without --train only this zero-shot score is \
                measured. With --train the model is fine-tuned on the training questions (the image the anchor, \
                the right option the positive, the other options the negatives; AdamW) and the test questions are \
                scored again. Accuracy is reported overall and by question type (what/where/when/who/why/how). \
                Question files are JSON lines as `brivl data fashion-vqa` writes them.
                """)

        @OptionGroup var options: EvaluationOptions

        @Option(help: "Training questions (questions.jsonl); without it only zero-shot accuracy is measured.")
        var train: String?

        @Option(help: "Test questions (questions.jsonl).")
        var test: String

        @Option(help: "Fine-tuning steps.")
        var steps: Int = 300

        @Option(help: "Peak learning rate of AdamW (warmup, then cosine decay).")
        var lr: Double = 1e-4

        @Option(help: "Training questions per step.")
        var trainBatchSize: Int = 32

        @Flag(help: "Keep every batch norm in evaluation mode while fine-tuning.")
        var freezeBn = false

        @Option(help: "Last ResNet stages or ViT blocks to train (default: the whole backbone); the image head always trains.")
        var trainableImageBlocks: Int?

        @Option(help: "Last BERT layers to train (default: all); the text head always trains.")
        var trainableTextLayers: Int?

        @Option(help: "Seed for the order of the training questions.")
        var seed: UInt64 = 0

        @Option(help: "Read at most this many questions from each file.")
        var limit: Int?

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
            guard train != nil else { return }
            do {
                try fineTuning.validate()
            } catch {
                throw ValidationError("\(error)")
            }
        }

        var fineTuning: VQAFineTuningConfiguration {
            VQAFineTuningConfiguration(
                steps: steps, learningRate: lr, batchSize: trainBatchSize, freezeBatchNorm: freezeBn,
                trainableImageBlocks: trainableImageBlocks, trainableTextLayers: trainableTextLayers, seed: seed)
        }

        func run() throws {
            let testSet = try VQADataset(contentsOf: test, limit: limit)
            let trainSet = try train.map { try VQADataset(contentsOf: $0, limit: limit) }
            let trained = try options.loadModel()
            FileHandle.standardError.write(
                Data("\(testSet.count) test questions, \(trainSet.map { "\($0.count) training questions" } ?? "zero-shot only")\n".utf8))
            let evaluation = VQAEvaluation(
                encoder: MultipleChoiceEncoder(
                    model: trained.model, tokenizer: trained.tokenizer, preprocessing: trained.preprocessing),
                batchSize: options.batchSize)
            var bars: [String: ProgressBar] = [:]
            func bar(_ label: String, total: Int) -> ProgressBar {
                if let bar = bars[label] { return bar }
                let bar = ProgressBar(label, total: total)
                bars[label] = bar
                return bar
            }
            let result = try evaluation.run(test: testSet, train: trainSet, fineTuning: fineTuning) { event in
                switch event {
                case .scoring(let fineTuned, let done, let total):
                    let progress = bar(fineTuned ? "scoring (fine-tuned)" : "scoring (zero-shot)", total: total)
                    done == total ? progress.finish(done) : progress.update(done, total: total)
                case .training(let step, let total, let loss):
                    let progress = bar("fine-tuning", total: total)
                    let detail = String(format: "loss %.4f", loss)
                    step == total ? progress.finish(step, detail: detail) : progress.update(step, total: total, detail: detail)
                }
            }
            let report = result.report(model: trained.source.identity, dataset: test)
            try options.publish(report, defaultName: "vqa")
        }
    }
}
