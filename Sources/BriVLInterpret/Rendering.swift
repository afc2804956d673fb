import Foundation
import Imaging
import Torch

/// Turning optimised tensors and attribution maps into pictures.
public enum Rendering {
    /// An RGB image from a tensor [1, 3, H, W] or [3, H, W] with values in [0, 1] (clamped).
    public static func image(from tensor: Tensor) throws -> Image {
        let planes = tensor.rank == 4 ? try tensor.squeezed(0) : tensor
        guard planes.rank == 3, planes.size(0) == 3 else {
            throw InterpretError.invalidArgument("an RGB picture needs [3, H, W] values, got \(tensor.shape)")
        }
        let (height, width) = (planes.size(1), planes.size(2))
        let values = try withNoGrad { try planes.clamped(min: 0.0, max: 1.0).contiguous() }.toArray(Float.self)
        return try Image(width: width, height: height) { bytes in
            let plane = width * height
            for index in 0..<plane {
                for channel in 0..<3 {
                    bytes[index * 3 + channel] = UInt8((values[channel * plane + index] * 255).rounded())
                }
            }
        }
    }

    /// The image with every pixel repeated `factor`×`factor` times (keeps small pictures crisp when viewed).
    public static func enlarged(_ image: Image, by factor: Int) throws -> Image {
        guard factor > 1 else { return image }
        let source = image.pixels
        return try Image(width: image.width * factor, height: image.height * factor) { bytes in
            let width = image.width * factor
            for y in 0..<image.height * factor {
                for x in 0..<width {
                    let from = ((y / factor) * image.width + x / factor) * 3
                    for channel in 0..<3 { bytes[(y * width + x) * 3 + channel] = source[from + channel] }
                }
            }
        }
    }

    /// Images side by side in rows of `columns`, separated by `gap` white pixels; all must share one size.
    public static func grid(_ images: [Image], columns: Int, gap: Int = 4) throws -> Image {
        guard let first = images.first, columns >= 1 else {
            throw InterpretError.invalidArgument("a grid needs at least one image and one column")
        }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw InterpretError.invalidArgument("every image of a grid must have the same size")
        }
        let rows = (images.count + columns - 1) / columns
        let usedColumns = min(columns, images.count)
        let width = usedColumns * first.width + (usedColumns - 1) * gap
        let height = rows * first.height + (rows - 1) * gap
        let sources = images.map(\.pixels)
        return try Image(width: width, height: height) { bytes in
            for index in bytes.indices { bytes[index] = 255 }
            for (number, source) in sources.enumerated() {
                let left = (number % columns) * (first.width + gap)
                let top = (number / columns) * (first.height + gap)
                for y in 0..<first.height {
                    for x in 0..<first.width {
                        let to = ((top + y) * width + left + x) * 3
                        let from = (y * first.width + x) * 3
                        for channel in 0..<3 { bytes[to + channel] = source[from + channel] }
                    }
                }
            }
        }
    }

    /// `image` tinted by a heat map: `map` [rows][columns] (any resolution dividing the image, nearest-neighbour
    /// upsampled); only positive values are shown, scaled by the largest, from transparent through red to yellow.
    public static func heatMapOverlay(_ image: Image, map: [[Double]]) throws -> Image {
        guard let columns = map.first?.count, columns > 0, map.allSatisfy({ $0.count == columns }) else {
            throw InterpretError.invalidArgument("a heat map needs rows of equal, non-zero length")
        }
        let rows = map.count
        // The 98th percentile of the positive values, not the maximum: one extreme pixel would otherwise wash
        // every other value out.
        let positives = map.joined().filter { $0 > 0 }.sorted()
        let peak = positives.isEmpty ? 0 : positives[min(positives.count - 1, positives.count * 98 / 100)]
        let source = image.pixels
        return try Image(width: image.width, height: image.height) { bytes in
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let value = peak > 0 ? min(1, max(0, map[y * rows / image.height][x * columns / image.width]) / peak) : 0
                    let heat = heatColour(value)
                    let alpha = 0.75 * value.squareRoot()
                    let index = (y * image.width + x) * 3
                    for channel in 0..<3 {
                        // Grey the picture a little so the tint reads on white backgrounds.
                        let base = Double(source[index + channel]) * 0.8
                        bytes[index + channel] = UInt8(max(0, min(255, (base * (1 - alpha) + heat[channel] * alpha).rounded())))
                    }
                }
            }
        }
    }

    /// `map` averaged over a (2·radius + 1)² window (clipped at the borders): pixel attributions are speckled, the
    /// regions they point at are not.
    public static func smoothed(_ map: [[Double]], radius: Int) -> [[Double]] {
        guard radius > 0, let columns = map.first?.count else { return map }
        let rows = map.count
        return (0..<rows).map { row in
            (0..<columns).map { column in
                var (total, count) = (0.0, 0)
                for y in max(0, row - radius)...min(rows - 1, row + radius) {
                    for x in max(0, column - radius)...min(columns - 1, column + radius) {
                        total += map[y][x]
                        count += 1
                    }
                }
                return total / Double(count)
            }
        }
    }

    /// Dark red → red → yellow for values in [0, 1].
    static func heatColour(_ value: Double) -> [Double] {
        let v = max(0, min(1, value))
        return [255 * min(1, 0.4 + 1.2 * v), 255 * max(0, 2 * v - 1), 0]
    }

    /// Token scores as text bars, one token a line: the bar's length is the score relative to the largest |score|,
    /// negative scores drawn with a different character.
    public static func tokenBars(_ tokens: [PairSaliency.TokenScore], width: Int = 24) -> String {
        let peak = tokens.map { abs($0.score) }.max() ?? 0
        let labelWidth = tokens.map { $0.token.count }.max() ?? 0
        return tokens.map { token in
            let length = peak > 0 ? Int((abs(token.score) / peak * Double(width)).rounded()) : 0
            let bar = String(repeating: token.score >= 0 ? "█" : "░", count: length)
            let label = token.token + String(repeating: " ", count: labelWidth - token.token.count)
            return "\(label) \(String(format: "%+.4f", token.score)) \(bar)"
        }.joined(separator: "\n")
    }

    /// Writes `image` as PNG to `path`, enlarged by `factor`.
    public static func writePNG(_ image: Image, to path: String, enlargedBy factor: Int = 1) throws {
        try ImageEncoder.png(enlarged(image, by: factor)).write(to: URL(fileURLWithPath: path))
    }
}
