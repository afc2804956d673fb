/// The EXIF orientation tag (0x0112): how the stored pixels must be transformed to appear upright.
///
/// The raw values are the tag's: 1 upright, 2 mirrored, 3 rotated 180°, 4 mirrored vertically, 5 transposed,
/// 6 needs a 90° clockwise turn, 7 transversed, 8 needs a 90° counter-clockwise turn.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case up = 1
    case upMirrored = 2
    case down = 3
    case downMirrored = 4
    case leftMirrored = 5
    case right = 6
    case rightMirrored = 7
    case left = 8

    /// Whether upright width and height are the stored height and width.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Where upright pixel (x, y) comes from in a stored image of `stored` size, as a linear pixel index
    /// `origin + x·stepX + y·stepY`.
    func sourceWalk(stored: ImageSize) -> (origin: Int, stepX: Int, stepY: Int) {
        let w = stored.width, h = stored.height
        switch self {
        case .up: return (0, 1, w)
        case .upMirrored: return (w - 1, -1, w)
        case .down: return ((h - 1) * w + w - 1, -1, -w)
        case .downMirrored: return ((h - 1) * w, 1, -w)
        case .leftMirrored: return (0, w, 1)  // transpose: upright (x, y) = stored (y, x)
        case .right: return ((h - 1) * w, -w, 1)  // upright (x, y) = stored (y, h−1−x)
        case .rightMirrored: return ((h - 1) * w + w - 1, -w, -1)  // upright (x, y) = stored (w−1−y, h−1−x)
        case .left: return (w - 1, w, -1)  // upright (x, y) = stored (w−1−y, x)
        }
    }

    /// The stored-image interval of an upright box: maps the upright rectangle back to stored coordinates.
    func storedBox(of box: PixelBox, stored: ImageSize) -> PixelBox {
        let w = Double(stored.width), h = Double(stored.height)
        switch self {
        case .up: return box
        case .upMirrored: return PixelBox(x0: w - box.x1, y0: box.y0, x1: w - box.x0, y1: box.y1)
        case .down: return PixelBox(x0: w - box.x1, y0: h - box.y1, x1: w - box.x0, y1: h - box.y0)
        case .downMirrored: return PixelBox(x0: box.x0, y0: h - box.y1, x1: box.x1, y1: h - box.y0)
        case .leftMirrored: return PixelBox(x0: box.y0, y0: box.x0, x1: box.y1, y1: box.x1)
        case .right: return PixelBox(x0: box.y0, y0: h - box.x1, x1: box.y1, y1: h - box.x0)
        case .rightMirrored: return PixelBox(x0: w - box.y1, y0: h - box.x1, x1: w - box.y0, y1: h - box.x0)
        case .left: return PixelBox(x0: w - box.y1, y0: box.x0, x1: w - box.y0, y1: box.x1)
        }
    }
}

extension Image {
    /// The image turned upright for `orientation` (the transform the EXIF tag asks for).
    public func oriented(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        let upright = orientation.swapsAxes ? size.transposed : size
        let (origin, stepX, stepY) = orientation.sourceWalk(stored: size)
        let storage = PixelStorage(count: byteCount)
        withUnsafeBufferPointer { source in
            let input = source.baseAddress!
            let output = storage.base
            // Tiles keep both the reads and the writes of the transposing orientations within cache.
            let tile = 32
            for tileY in stride(from: 0, to: upright.height, by: tile) {
                for tileX in stride(from: 0, to: upright.width, by: tile) {
                    for y in tileY..<min(tileY + tile, upright.height) {
                        var target = output + (y * upright.width + tileX) * 3
                        var from = origin + tileX * stepX + y * stepY
                        for _ in tileX..<min(tileX + tile, upright.width) {
                            let pixel = input + from * 3
                            target[0] = pixel[0]
                            target[1] = pixel[1]
                            target[2] = pixel[2]
                            target += 3
                            from += stepX
                        }
                    }
                }
            }
        }
        return Image(width: upright.width, height: upright.height, storage: storage)
    }
}
