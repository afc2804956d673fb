import Foundation

/// Everything that fixes a BriVL model's shape: both towers and the temperature's start and bound.
///
/// Stored as snake_case JSON beside every checkpoint, so a checkpoint can be loaded without knowing how it was made.
public struct BriVLConfiguration: Codable, Sendable, Equatable {
    /// The preset it came from, or a user's name for it.
    public var name: String
    public var image: ImageTowerConfiguration
    public var text: TextTowerConfiguration
    /// The temperature τ the learnable logit scale (log 1/τ) starts from (CLIP: 0.07).
    public var initialTemperature: Double
    /// The largest allowed 1/τ (CLIP clamps at 100).
    public var maximumLogitScale: Double

    enum CodingKeys: String, CodingKey {
        case name, image, text
        case initialTemperature = "initial_temperature"
        case maximumLogitScale = "maximum_logit_scale"
    }

    public init(
        name: String, image: ImageTowerConfiguration, text: TextTowerConfiguration, initialTemperature: Double = 0.07,
        maximumLogitScale: Double = 100
    ) {
        self.name = name
        self.image = image
        self.text = text
        self.initialTemperature = initialTemperature
        self.maximumLogitScale = maximumLogitScale
    }

    /// Width of the joint embedding space.
    public var embeddingSize: Int { image.head.outputSize }

    public func validate() throws {
        try image.validate()
        try text.validate()
        guard image.head.outputSize == text.head.outputSize else {
            throw ModelError.invalidConfiguration(
                "the image tower embeds into \(image.head.outputSize) dimensions, the text tower into "
                    + "\(text.head.outputSize)")
        }
        guard initialTemperature > 0, maximumLogitScale >= 1 / initialTemperature else {
            throw ModelError.invalidConfiguration(
                "initial temperature \(initialTemperature) must be positive and 1/τ within the maximum \(maximumLogitScale)")
        }
    }

    // MARK: - JSON

    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(json: Data) throws -> BriVLConfiguration {
        do {
            let configuration = try JSONDecoder().decode(BriVLConfiguration.self, from: json)
            try configuration.validate()
            return configuration
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.invalidConfiguration("not a BriVL model configuration: \(error)")
        }
    }

    public static func read(from path: String) throws -> BriVLConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.io(file: path, message: "cannot read the model configuration")
        }
        return try decode(json: data)
    }
}
