import FileTestSupport
import Foundation
import Testing

@testable import BriVLData
@testable import FashionCorpora

/// The bytes of an IDX file written by hand from the format's definition: magic (0, 0, type, rank), big-endian sizes,
/// values.
func idxBytes(type: UInt8 = 0x08, dimensions: [Int], values: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for size in dimensions {
        bytes += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
    }
    return bytes + values
}

/// Compresses `name` in `directory` with the system's gzip into `name.gz`, keeping the original.
func gzipFile(_ name: String, in directory: String) throws {
    let tool = "/bin/gzip"
    guard FileManager.default.isExecutableFile(atPath: tool) else {
        Issue.record("gzip is needed for this test")
        return
    }
    #expect(try runCommand(tool, ["-k", "-n", "-f", name], in: directory) == 0)
}

/// A small stand-in for Fashion-MNIST: `count` images of `side`×`side` whose every pixel is 255 (so that a drawn item
/// fills its whole square with its colour), labelled `index % 10`.
struct SyntheticFashionMNIST {
    static let side = 28

    static func images(count: Int) -> [UInt8] {
        idxBytes(dimensions: [count, side, side], values: [UInt8](repeating: 255, count: count * side * side))
    }

    static func labels(count: Int) -> [UInt8] {
        idxBytes(dimensions: [count], values: (0..<count).map { UInt8($0 % 10) })
    }

    static func load(count: Int) throws -> FashionMNIST {
        try FashionMNIST(
            images: IDXFile(bytes: images(count: count), file: "images"),
            labels: IDXFile(bytes: labels(count: count), file: "labels"), source: "synthetic")
    }

    /// Writes both halves into `directory`: the training files gzip-compressed only, the test files uncompressed, so
    /// that a corpus run reads both kinds.
    static func write(in directory: String, trainCount: Int = 50, testCount: Int = 30) throws {
        for (subset, count) in [(FashionMNIST.Subset.train, trainCount), (.test, testCount)] {
            let imagesPath = (directory as NSString).appendingPathComponent(subset.imagesFile)
            let labelsPath = (directory as NSString).appendingPathComponent(subset.labelsFile)
            try Data(images(count: count)).write(to: URL(fileURLWithPath: imagesPath))
            try Data(labels(count: count)).write(to: URL(fileURLWithPath: labelsPath))
            if subset == .train {
                for name in [subset.imagesFile, subset.labelsFile] {
                    try gzipFile(name, in: directory)
                    try FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
                }
            }
        }
    }
}

/// The reason of a ``DataError/invalidFile(file:reason:)``, or nil for any other error.
func invalidFileReason(_ body: () throws -> Void) -> String? {
    do {
        try body()
    } catch DataError.invalidFile(_, let reason) {
        return reason
    } catch {
        Issue.record("expected an invalid-file error, got \(error)")
        return nil
    }
    Issue.record("expected an invalid-file error, but nothing was thrown")
    return nil
}
