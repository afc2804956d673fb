import Foundation

/// One RGB pixel.
public struct Pixel: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let black = Pixel(0, 0, 0)
    public static let white = Pixel(255, 255, 255)

    public var description: String { "(\(red), \(green), \(blue))" }
}

/// An 8-bit RGB image: `height` rows of `width` pixels, each pixel three bytes (red, green, blue), rows packed
/// with no padding, top row first.
///
/// A value type with copy-on-write storage: copies are cheap until one of them is mutated. Decoded images adopt
/// the decoder's buffer without copying it.
public struct Image: Sendable, Equatable, CustomStringConvertible {
    public let width: Int
    public let height: Int
    var storage: PixelStorage

    /// Bytes per pixel: red, green, blue.
    public static let channels = 3

    /// Bytes per row (no padding).
    public var rowBytes: Int { width * Image.channels }

    /// Bytes of pixel data.
    public var byteCount: Int { width * height * Image.channels }

    public var size: ImageSize { ImageSize(width: width, height: height) }

    public var description: String { "Image(\(width)x\(height) RGB)" }

    init(width: Int, height: Int, storage: PixelStorage) {
        precondition(storage.count == width * height * Image.channels, "storage does not match the image size")
        self.width = width
        self.height = height
        self.storage = storage
    }

    /// An image whose bytes `initialize` writes; every byte must be written.
    public init(
        width: Int, height: Int, initializingPixelsWith initialize: (UnsafeMutableBufferPointer<UInt8>) throws -> Void
    ) throws {
        try Image.validate(width: width, height: height)
        let storage = PixelStorage(count: width * height * Image.channels)
        try initialize(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
        self.init(width: width, height: height, storage: storage)
    }

    /// An image holding a copy of `pixels` (3·width·height bytes, RGB, rows packed).
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard pixels.count == width * height * Image.channels else {
            throw ImageError.invalidArgument("\(pixels.count) bytes cannot fill a \(width)x\(height) RGB image")
        }
        try self.init(width: width, height: height) { buffer in
            _ = buffer.initialize(from: pixels)
        }
    }

    /// An image of one colour.
    public init(width: Int, height: Int, color: Pixel) throws {
        try self.init(width: width, height: height) { buffer in
            var index = 0
            while index < buffer.count {
                buffer[index] = color.red
                buffer[index + 1] = color.green
                buffer[index + 2] = color.blue
                index += 3
            }
        }
    }

    /// An image of one grey level per pixel (`width`·`height` values), expanded to RGB.
    public init(width: Int, height: Int, grey: [UInt8]) throws {
        guard grey.count == width * height else {
            throw ImageError.invalidArgument("\(grey.count) values cannot fill a \(width)x\(height) grey image")
        }
        try self.init(width: width, height: height) { buffer in
            for (index, value) in grey.enumerated() {
                buffer[3 * index] = value
                buffer[3 * index + 1] = value
                buffer[3 * index + 2] = value
            }
        }
    }

    static func validate(width: Int, height: Int) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidArgument("image size \(width)x\(height) is empty") }
        let (count, overflow) = width.multipliedReportingOverflow(by: height * Image.channels)
        guard !overflow, count <= Int(Int32.max) * 16 else {
            throw ImageError.invalidArgument("image size \(width)x\(height) is too large")
        }
    }

    /// A copy of the pixel bytes.
    public var pixels: [UInt8] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Pixel {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) is outside \(width)x\(height)")
            let offset = (y * width + x) * 3
            return Pixel(storage.base[offset], storage.base[offset + 1], storage.base[offset + 2])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) is outside \(width)x\(height)")
            makeUnique()
            let offset = (y * width + x) * 3
            storage.base[offset] = newValue.red
            storage.base[offset + 1] = newValue.green
            storage.base[offset + 2] = newValue.blue
        }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }

    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
        makeUnique()
        return try withExtendedLifetime(storage) {
            try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
        }
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    public static func == (lhs: Image, rhs: Image) -> Bool {
        guard lhs.width == rhs.width, lhs.height == rhs.height else { return false }
        if lhs.storage === rhs.storage { return true }
        return memcmp(lhs.storage.base, rhs.storage.base, lhs.storage.count) == 0
    }
}

/// A width and a height in pixels.
public struct ImageSize: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A square.
    public init(_ side: Int) {
        self.init(width: side, height: side)
    }

    public var shorterSide: Int { min(width, height) }
    public var longerSide: Int { max(width, height) }
    public var pixelCount: Int { width * height }

    /// The size with width and height exchanged.
    public var transposed: ImageSize { ImageSize(width: height, height: width) }

    public var description: String { "\(width)x\(height)" }
}

/// The pixel memory of an ``Image``: malloc'd (so buffers from the C decoders can be adopted) and freed once.
final class PixelStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let count: Int

    /// Fresh, uninitialised storage for `count` bytes.
    init(count: Int) {
        guard let memory = malloc(max(count, 1)) else { fatalError("out of memory allocating \(count) bytes of pixels") }
        base = memory.assumingMemoryBound(to: UInt8.self)
        self.count = count
    }

    /// Takes ownership of a malloc'd buffer.
    init(adopting base: UnsafeMutablePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    func copy() -> PixelStorage {
        let copy = PixelStorage(count: count)
        copy.base.update(from: base, count: count)
        return copy
    }

    deinit {
        free(base)
    }
}
