import BriVLSearch
import Foundation
import Imaging

/// Colour pictures and an embedder that understands them without a model: an image's vector is its mean colour,
/// a text's is the colour it names. Searches then have answers a test can predict, and the embedder counts what
/// it was asked to embed, so tests can prove that unchanged files are not embedded again.
final class ColourEmbedder: SearchEmbedder, @unchecked Sendable {
    static let colours: [(english: String, chinese: String, pixel: [UInt8])] = [
        ("red", "红色", [230, 20, 20]), ("green", "绿色", [20, 210, 30]), ("blue", "蓝色", [20, 30, 230]),
        ("yellow", "黄色", [230, 220, 20]), ("white", "白色", [240, 240, 240]), ("black", "黑色", [10, 10, 10]),
    ]

    let dimension = 4
    var identity = "colour-embedder"
    private let lock = NSLock()
    private var embeddedImages = 0
    private var batches: [Int] = []

    /// Images embedded so far (unreadable ones included).
    var imagesEmbedded: Int { lock.withLock { embeddedImages } }
    /// Sizes of the image and text batches received.
    var batchSizes: [Int] { lock.withLock { batches } }

    func embedImages(_ images: [Data]) throws -> [ImageEmbedding] {
        lock.withLock {
            embeddedImages += images.count
            batches.append(images.count)
        }
        return images.map { data in
            do {
                let image = try ImageDecoder.decode(data: data)
                var sums = [Double](repeating: 0, count: 3)
                image.withUnsafeBufferPointer { pixels in
                    for index in 0..<pixels.count { sums[index % 3] += Double(pixels[index]) }
                }
                let count = Double(image.width * image.height)
                return .vector(Self.normalised(sums.map { Float($0 / count / 255) } + [0.2]))
            } catch {
                return .unreadable("\(error)")
            }
        }
    }

    func embedTexts(_ texts: [String]) throws -> [[Float]] {
        lock.withLock { batches.append(texts.count) }
        return texts.map(Self.vector(text:))
    }

    func embedClasses(prompts: [[String]]) throws -> [[Float]] {
        prompts.map { Self.vector(text: $0.joined(separator: " ")) }
    }

    static func vector(text: String) -> [Float] {
        let colour = colours.first { text.contains($0.english) || text.contains($0.chinese) }
        let pixel = colour?.pixel ?? [128, 128, 128]
        return normalised(pixel.map { Float($0) / 255 } + [0.2])
    }

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }
}

enum SearchFixtures {
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("brivl-search-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A 16×16 PNG of one colour of ``ColourEmbedder/colours``.
    static func png(colour: Int, size: Int = 16) throws -> Data {
        let pixel = ColourEmbedder.colours[colour].pixel
        return try ImageEncoder.png(
            try Image(width: size, height: size, pixels: Array((0..<size * size).map { _ in pixel }.joined())))
    }

    static func writePNG(colour: Int, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try png(colour: colour).write(to: URL(fileURLWithPath: path))
    }

    /// One picture per colour, named after it, half of them in a sub-folder.
    static func writeColourFolder(_ root: String) throws {
        for (index, colour) in ColourEmbedder.colours.enumerated() {
            let folder = index % 2 == 0 ? root : (root as NSString).appendingPathComponent("more")
            try writePNG(colour: index, to: (folder as NSString).appendingPathComponent("\(colour.english).png"))
        }
    }

    /// Moves a file's modification time (as a copy or `touch` would) without changing its bytes.
    static func touch(_ path: String, secondsLater: Double = 10) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let modified = (attributes[.modificationDate] as? Date) ?? Date()
        try FileManager.default.setAttributes(
            [.modificationDate: modified.addingTimeInterval(secondsLater)], ofItemAtPath: path)
    }
}
