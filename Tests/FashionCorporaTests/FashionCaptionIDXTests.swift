import FileTestSupport
import Foundation
import Testing

@testable import BriVLData
@testable import FashionCorpora

@Suite("FashionCaption: idx files and Fashion-MNIST")
struct FashionCaptionIDXTests {
    @Test("an idx3 file parses into its dimensions and row-major values")
    func parsesDimensionsAndValues() throws {
        let values = (0..<24).map { UInt8($0 * 10) }
        let file = try IDXFile(bytes: idxBytes(dimensions: [2, 3, 4], values: values), file: "x")
        #expect(file.dimensions == [2, 3, 4])
        #expect(file.values == values)
        #expect(file.magic == 0x0803)
        let labels = try IDXFile(bytes: idxBytes(dimensions: [5], values: [9, 0, 3, 3, 1]), file: "y")
        #expect(labels.magic == 0x0801)
        #expect(labels.values == [9, 0, 3, 3, 1])
    }

    @Test("gzip-compressed files, single or concatenated members, read the same as raw ones")
    func readsGzip() throws {
        try withTemporaryDirectory { directory in
            let values = (0..<(30 * 7 * 5)).map { UInt8(($0 * 37) % 256) }
            let bytes = idxBytes(dimensions: [30, 7, 5], values: values)
            let raw = (directory as NSString).appendingPathComponent("images-idx3-ubyte")
            try Data(bytes).write(to: URL(fileURLWithPath: raw))
            try gzipFile("images-idx3-ubyte", in: directory)
            let compressed = try Data(contentsOf: URL(fileURLWithPath: raw + ".gz"))
            #expect(compressed.count < bytes.count)
            #expect(try IDXFile.read(path: raw + ".gz") == IDXFile.read(path: raw))

            // `cat a.gz b.gz` is one valid gzip file holding both parts.
            let half = bytes.count / 2
            try Data(bytes[..<half]).write(to: URL(fileURLWithPath: directory + "/a"))
            try Data(bytes[half...]).write(to: URL(fileURLWithPath: directory + "/b"))
            try gzipFile("a", in: directory)
            try gzipFile("b", in: directory)
            let joined = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.gz"))
                + Data(contentsOf: URL(fileURLWithPath: directory + "/b.gz"))
            #expect(try IDXFile(bytes: [UInt8](joined), file: "joined").values == values)
        }
    }

    @Test("a wrong magic number, an unsupported element type and no dimensions are rejected")
    func rejectsBadMagic() throws {
        var bytes = idxBytes(dimensions: [1, 2, 2], values: [1, 2, 3, 4])
        bytes[0] = 0x1F
        let magic = invalidFileReason { _ = try IDXFile(bytes: bytes, file: "bad") }
        #expect(magic?.contains("not an idx file") == true)
        #expect(magic?.contains("0x1F000803") == true)

        let floats = invalidFileReason { _ = try IDXFile(bytes: idxBytes(type: 0x0D, dimensions: [1], values: [0, 0, 0, 0]), file: "f") }
        #expect(floats?.contains("floats") == true)
        #expect(floats?.contains("not supported") == true)

        let unknown = invalidFileReason { _ = try IDXFile(bytes: idxBytes(type: 0x42, dimensions: [1], values: [0]), file: "u") }
        #expect(unknown?.contains("names no idx element type") == true)

        let rankless = invalidFileReason { _ = try IDXFile(bytes: [0, 0, 8, 0], file: "r") }
        #expect(rankless?.contains("no dimensions") == true)
    }

    @Test("truncated headers and data, and trailing bytes, are rejected with the sizes involved")
    func rejectsTruncation() throws {
        let whole = idxBytes(dimensions: [3, 4, 4], values: [UInt8](repeating: 7, count: 48))
        let shortData = invalidFileReason { _ = try IDXFile(bytes: Array(whole.dropLast(5)), file: "t") }
        #expect(shortData?.contains("truncated") == true)
        #expect(shortData?.contains("3×4×4 = 48 values") == true)
        #expect(shortData?.contains("only 43 bytes") == true)

        let shortHeader = invalidFileReason { _ = try IDXFile(bytes: Array(whole.prefix(10)), file: "t") }
        #expect(shortHeader?.contains("truncated") == true)
        #expect(shortHeader?.contains("needs 16") == true)

        let tiny = invalidFileReason { _ = try IDXFile(bytes: [0, 0], file: "t") }
        #expect(tiny?.contains("truncated") == true)

        let trailing = invalidFileReason { _ = try IDXFile(bytes: whole + [1, 2], file: "t") }
        #expect(trailing?.contains("2 more bytes") == true)
    }

    @Test("a truncated or corrupt gzip file is an error, not a short result")
    func rejectsBrokenGzip() throws {
        try withTemporaryDirectory { directory in
            let values = (0..<4000).map { UInt8(($0 * 7919) % 251) }
            try Data(idxBytes(dimensions: [4000], values: values)).write(to: URL(fileURLWithPath: directory + "/l"))
            try gzipFile("l", in: directory)
            let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/l.gz")))

            let cut = invalidFileReason { _ = try IDXFile(bytes: Array(compressed.prefix(compressed.count / 2)), file: "cut") }
            #expect(cut?.contains("gzip data is truncated") == true)

            var corrupt = compressed
            for offset in 20..<40 { corrupt[offset] ^= 0xA5 }
            let broken = invalidFileReason { _ = try IDXFile(bytes: corrupt, file: "corrupt") }
            #expect(broken?.contains("gzip") == true)

            let junk = invalidFileReason { _ = try IDXFile(bytes: compressed + [1, 2, 3], file: "junk") }
            #expect(junk?.contains("after the end of the gzip data") == true)
        }
    }

    @Test("a missing file is an I/O error naming it")
    func missingFile() throws {
        #expect(throws: DataError.io(file: "/nonexistent/images", message: "no such file")) {
            _ = try IDXFile.read(path: "/nonexistent/images")
        }
    }

    @Test("images and labels must agree: ranks, counts and labels within the ten classes")
    func validatesPairing() throws {
        let images = try IDXFile(bytes: SyntheticFashionMNIST.images(count: 4), file: "i")
        let labels = try IDXFile(bytes: SyntheticFashionMNIST.labels(count: 4), file: "l")
        let dataset = try FashionMNIST(images: images, labels: labels, source: "s")
        #expect(dataset.count == 4 && dataset.rows == 28 && dataset.columns == 28)
        #expect(dataset.labels == [0, 1, 2, 3])
        #expect(dataset.indicesByLabel[3] == [3] && dataset.indicesByLabel[7].isEmpty)
        #expect(dataset.image(2).count == 28 * 28)

        let swapped = invalidFileReason { _ = try FashionMNIST(images: labels, labels: images, source: "s") }
        #expect(swapped?.contains("expected an idx3 image file (magic 0x00000803), found magic 0x00000801") == true)

        let fewer = try IDXFile(bytes: SyntheticFashionMNIST.labels(count: 3), file: "l")
        let counts = invalidFileReason { _ = try FashionMNIST(images: images, labels: fewer, source: "s") }
        #expect(counts?.contains("4 images but 3 labels") == true)

        let outOfRange = try IDXFile(bytes: idxBytes(dimensions: [4], values: [0, 1, 12, 3]), file: "l")
        let label = invalidFileReason { _ = try FashionMNIST(images: images, labels: outOfRange, source: "s") }
        #expect(label?.contains("label 12 of image 2") == true)
    }

    @Test("missing dataset files point to the dataset-fashion-mnist package")
    func missingDatasetNamesPackage() throws {
        try withTemporaryDirectory { directory in
            do {
                _ = try FashionMNIST.load(.test, from: directory)
                Issue.record("loading from an empty folder succeeded")
            } catch DataError.io(let file, let message) {
                #expect(file == directory)
                #expect(message.contains("t10k-images-idx3-ubyte.gz"))
                #expect(message.contains("dataset-fashion-mnist"))
            }
        }
    }

    @Test("the class table has ten classes with measure words and English pair forms")
    func classTable() {
        let classes = FashionMNIST.classes
        #expect(classes.map(\.label) == Array(0..<10))
        #expect(classes.map(\.chinese) == ["T恤", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"])
        #expect(classes.map(\.measureWord) == ["件", "条", "件", "件", "件", "双", "件", "双", "个", "双"])
        #expect(classes[9].englishWithArticle == "a pair of ankle boots")
        #expect(classes[1].englishWithArticle == "a pair of trousers")
        #expect(classes[8].englishWithArticle == "a bag")
        #expect(Set(classes.map(\.english)).count == 10)
    }
}
