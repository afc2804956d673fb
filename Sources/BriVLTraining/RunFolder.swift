import BriVLInference
import Foundation
import Tokenization

/// The output folder of a training run, made ready before anything is built: the folder itself, the vocabulary the
/// run uses, its checkpoints, and — on the writing rank — `training.json` and the copy of the vocabulary.
struct RunFolder {
    let path: String
    let vocabulary: Vocabulary
    let checkpoints: CheckpointDirectory
    /// The checkpoint a resumed run continues from.
    /// The newest intact checkpoint, the one a resumed run continues from.
    let latest: Checkpoint?
    /// Newer checkpoints passed over because their files do not verify.
    let damaged: [CheckpointDirectory.DamagedCheckpoint]
    /// The configuration as the run uses it (the vocabulary's size set on the text encoder).
    let configuration: TrainingConfiguration

    static func configurationPath(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("training.json")
    }

    /// Prepares `path` for a run. A folder that already holds checkpoints is refused unless `resume`; the folder's
    /// own `vocab.txt`, once there, is the vocabulary. Only the primary rank writes.
    init(path: String, configuration given: TrainingConfiguration, resume: Bool, isPrimary: Bool) throws {
        let fileManager = FileManager.default
        if isPrimary { try fileManager.createDirectory(atPath: path, withIntermediateDirectories: true) }
        let vocabularyCopy = (path as NSString).appendingPathComponent("vocab.txt")
        let vocabularyPath = fileManager.fileExists(atPath: vocabularyCopy) ? vocabularyCopy : given.data.vocabulary
        do {
            vocabulary = try Vocabulary(contentsOfFile: vocabularyPath)
        } catch {
            throw TrainingError.invalidConfiguration("cannot read the vocabulary \(vocabularyPath): \(error)")
        }
        var configuration = given
        configuration.model.text.vocabularySize = vocabulary.count
        try configuration.validate()
        checkpoints = try CheckpointDirectory(
            root: (path as NSString).appendingPathComponent("checkpoints"), keepLast: configuration.run.keepCheckpoints)
        (latest, damaged) = try checkpoints.latestIntact()
        if (latest != nil || !damaged.isEmpty) && !resume {
            throw TrainingError.invalidConfiguration(
                "\(path) already holds checkpoints; resume it or train into another folder")
        }
        // A fresh run whose folder already holds another vocab.txt (an earlier run removed by hand, a copy) would
        // silently train with that one instead of the one asked for.
        if latest == nil, damaged.isEmpty, vocabularyPath == vocabularyCopy,
            let asked = fileManager.contents(atPath: given.data.vocabulary),
            let present = fileManager.contents(atPath: vocabularyCopy), asked != present
        {
            throw TrainingError.invalidConfiguration(
                "\(vocabularyCopy) differs from --vocabulary \(given.data.vocabulary): remove it, or train into another folder")
        }
        if isPrimary {
            if !fileManager.fileExists(atPath: vocabularyCopy) {
                // Written whole and renamed into place: the other ranks read the copy once it is there.
                let contents = try Data(contentsOf: URL(fileURLWithPath: configuration.data.vocabulary))
                try contents.write(to: URL(fileURLWithPath: vocabularyCopy), options: .atomic)
            }
            try configuration.encodedJSON().write(
                to: URL(fileURLWithPath: Self.configurationPath(in: path)), options: .atomic)
        }
        self.path = path
        self.configuration = configuration
    }
}
