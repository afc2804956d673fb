/// Crops and flips: exact pixel copies.
extension Image {
    /// The rectangle of `width`×`height` pixels whose top-left pixel is (x, y); it must lie inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) throws -> Image {
        guard cropWidth > 0, cropHeight > 0, x >= 0, y >= 0, x + cropWidth <= width, y + cropHeight <= height else {
            throw ImageError.invalidArgument(
                "crop \(cropWidth)x\(cropHeight) at (\(x), \(y)) is not inside a \(width)x\(height) image")
        }
        if x == 0 && y == 0 && cropWidth == width && cropHeight == height { return self }
        let storage = PixelStorage(count: cropWidth * cropHeight * 3)
        withUnsafeBufferPointer { source in
            for row in 0..<cropHeight {
                let from = source.baseAddress! + ((y + row) * width + x) * 3
                (storage.base + row * cropWidth * 3).update(from: from, count: cropWidth * 3)
            }
        }
        return Image(width: cropWidth, height: cropHeight, storage: storage)
    }

    /// The offset of a centred crop, rounded as torchvision does: `int(round((size − crop) / 2))`, where Python
    /// rounds halves to even.
    static func centeredOffset(size: Int, crop: Int) -> Int {
        Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
    }

    /// The centred `size` rectangle. A crop larger than the image pads with `fill` on the missing sides, as
    /// torchvision's `CenterCrop` pads with zeros.
    public func centerCropped(to size: ImageSize, fill: Pixel = .black) throws -> Image {
        try Image.validate(width: size.width, height: size.height)
        if size.width <= width && size.height <= height {
            return try cropped(
                x: Image.centeredOffset(size: width, crop: size.width),
                y: Image.centeredOffset(size: height, crop: size.height), width: size.width, height: size.height)
        }
        // Pad to at least the crop (torchvision: left = (crop − w) / 2 rounded down, right gets the rest), then crop.
        let paddedWidth = max(width, size.width), paddedHeight = max(height, size.height)
        let left = (paddedWidth - width) / 2, top = (paddedHeight - height) / 2
        var padded = try Image(width: paddedWidth, height: paddedHeight, color: fill)
        padded.withUnsafeMutableBufferPointer { target in
            withUnsafeBufferPointer { source in
                for row in 0..<height {
                    (target.baseAddress! + ((top + row) * paddedWidth + left) * 3)
                        .update(from: source.baseAddress! + row * rowBytes, count: rowBytes)
                }
            }
        }
        return try padded.centerCropped(to: size, fill: fill)
    }

    /// The centred `side`×`side` square.
    public func centerCropped(_ side: Int) throws -> Image {
        try centerCropped(to: ImageSize(side))
    }

    /// The mirror image (left and right exchanged).
    public func flippedHorizontally() -> Image {
        let storage = PixelStorage(count: byteCount)
        withUnsafeBufferPointer { source in
            for row in 0..<height {
                let from = source.baseAddress! + row * rowBytes
                let to = storage.base + row * rowBytes
                for x in 0..<width {
                    let a = from + x * 3, b = to + (width - 1 - x) * 3
                    b[0] = a[0]
                    b[1] = a[1]
                    b[2] = a[2]
                }
            }
        }
        return Image(width: width, height: height, storage: storage)
    }

    /// The image upside down.
    public func flippedVertically() -> Image {
        let storage = PixelStorage(count: byteCount)
        withUnsafeBufferPointer { source in
            for row in 0..<height {
                (storage.base + (height - 1 - row) * rowBytes).update(from: source.baseAddress! + row * rowBytes, count: rowBytes)
            }
        }
        return Image(width: width, height: height, storage: storage)
    }
}
