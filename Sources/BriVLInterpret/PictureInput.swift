import Foundation
import Imaging
import Torch

/// A picture from disk prepared as the model's evaluation preprocessing prepares it (shorter side to the model's
/// size, centre crop), kept in [0, 1] so that attributions can be drawn over it.
public enum PictureInput {
    /// - Returns: the cropped picture and the same as a tensor [1, 3, side, side] in [0, 1]
    public static func load(path: String, side: Int) throws -> (image: Image, tensor: Tensor) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InterpretError.invalidArgument("no image at \(path)")
        }
        let decoded = try ImageDecoder.decode(contentsOf: path)
        let cropped = try decoded.resized(shorterSide: side).centerCropped(side)
        return (cropped, try cropped.tensor(normalization: .unit).unsqueezed(0))
    }

    /// The median colour of the picture's outermost ring of pixels, in [0, 1]: the canvas colour of a picture with
    /// things drawn on a plain background, the natural "nothing here" for its attributions.
    public static func borderColour(of image: Image) -> [Float] {
        let pixels = image.pixels
        var channels: [[UInt8]] = [[], [], []]
        for y in 0..<image.height {
            for x in 0..<image.width where y == 0 || x == 0 || y == image.height - 1 || x == image.width - 1 {
                for channel in 0..<3 { channels[channel].append(pixels[(y * image.width + x) * 3 + channel]) }
            }
        }
        return channels.map { values in
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : Float(sorted[sorted.count / 2]) / 255
        }
    }
}
