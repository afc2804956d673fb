import BriVLInference
import Foundation

/// One line of `metrics.jsonl` for a training step.
public struct StepRecord: Codable, Sendable, Equatable {
    public var kind = "train"
    public var step: Int
    public var loss: Double
    public var contrastiveLoss: Double
    public var imageToTextLoss: Double
    public var textToImageLoss: Double
    public var maskedLanguageModelLoss: Double?
    /// τ = 1 / logit scale.
    public var temperature: Double
    public var learningRate: Double
    /// The global gradient norm before clipping.
    public var gradientNorm: Double
    public var distillation: Double
    /// Pairs per second over the steps since the previous record.
    public var pairsPerSecond: Double
    public var elapsedSeconds: Double
    /// Data-parallel runs: seconds this rank spent in collectives during the step, and the bytes it sent into them.
    public var communicationSeconds: Double?
    public var communicatedBytes: Int?

    enum CodingKeys: String, CodingKey {
        case kind, step, loss
        case communicationSeconds = "communication_s"
        case communicatedBytes = "communicated_bytes"
        case contrastiveLoss = "contrastive_loss"
        case imageToTextLoss = "i2t_loss"
        case textToImageLoss = "t2i_loss"
        case maskedLanguageModelLoss = "mlm_loss"
        case temperature
        case learningRate = "lr"
        case gradientNorm = "grad_norm"
        case distillation
        case pairsPerSecond = "pairs_per_s"
        case elapsedSeconds = "elapsed_s"
    }
}

/// One line of `metrics.jsonl` for a validation.
public struct ValidationRecord: Codable, Sendable, Equatable {
    public var kind = "validation"
    public var step: Int
    public var pairs: Int
    public var imageToTextRecall: Recalls
    public var textToImageRecall: Recalls
    public var meanRecall: Double
    /// Top-1 accuracy on the zero-shot split, when one is configured.
    public var zeroShotAccuracy: Double?
    public var zeroShotImages: Int?

    enum CodingKeys: String, CodingKey {
        case kind, step, pairs
        case imageToTextRecall = "i2t_recall"
        case textToImageRecall = "t2i_recall"
        case meanRecall = "mean_recall"
        case zeroShotAccuracy = "zero_shot_top1"
        case zeroShotImages = "zero_shot_images"
    }
}

/// `metrics.jsonl`: one JSON object per line, appended and flushed as the run goes.
///
/// On resume the lines past the checkpoint's step are dropped, so the file always tells one consistent history.
public final class MetricsLog {
    /// Empty for a log kept in memory only.
    public let path: String
    private var handle: FileHandle?
    public private(set) var steps: [StepRecord] = []
    public private(set) var validations: [ValidationRecord] = []

    /// Opens (or creates) the log, keeping only records up to `step` (0 keeps nothing).
    public init(path: String, keepingThrough step: Int) throws {
        self.path = path
        let existing = FileManager.default.contents(atPath: path) ?? Data()
        var kept: [Substring] = []
        let decoder = JSONDecoder()
        for line in String(decoding: existing, as: UTF8.self).split(separator: "\n") {
            let data = Data(line.utf8)
            if let record = try? decoder.decode(StepRecord.self, from: data), record.kind == "train" {
                guard record.step <= step else { continue }
                steps.append(record)
            } else if let record = try? decoder.decode(ValidationRecord.self, from: data), record.kind == "validation" {
                guard record.step <= step else { continue }
                validations.append(record)
            } else {
                continue
            }
            kept.append(line)
        }
        let text = kept.map { $0 + "\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainingError.invalidConfiguration("cannot write \(path)")
        }
        try handle.seekToEnd()
        self.handle = handle
    }

    /// A log kept in memory only (the ranks of a data-parallel run other than rank 0).
    public init() {
        path = ""
        handle = nil
    }

    deinit { try? handle?.close() }

    public func append(_ record: StepRecord) throws {
        steps.append(record)
        try write(record)
    }

    public func append(_ record: ValidationRecord) throws {
        validations.append(record)
        try write(record)
    }

    private func write(_ record: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(record)
        line.append(0x0A)
        guard let handle else { return }
        try handle.write(contentsOf: line)
        try handle.synchronize()
    }
}
