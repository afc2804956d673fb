import Torch
import TorchNN

/// Multi-Grid Split pooling (BriVL): the feature map is split by several grids (BriVL's released config: the whole
/// image plus a 6×6 grid, 37 regions), each cell is resampled to k×k points by bilinear grid sampling (BriVL: 4×4),
/// a 1×1 convolution mixes channels, and the k×k points are averaged into one vector per region, L2-normalised.
///
/// All regions are sampled in one `grid_sample` call: their k×k sampling points are stacked into one
/// [regions·k, k] sampling grid, so the cost does not grow with Swift-side loops over regions.
public final class MultiGridSplitPooling: Module {
    public let projection: Conv2d
    public let grids: [Int]
    public let samplesPerSide: Int
    /// Sampling locations derived from the configuration: constant, so kept out of parameters and checkpoints
    /// (reflection collects stored `Tensor`s, not this wrapper).
    struct SamplingGrid {
        /// [1, regions·k, k, 2] in grid_sample's normalised coordinates.
        let points: Tensor
    }

    let samplingGrid: SamplingGrid

    /// - Parameters:
    ///   - channels: C of the incoming feature map (kept by the 1×1 convolution)
    ///   - grids: grid sizes, e.g. [1, 6] (BriVL) or [1, 2, 3, 6]
    ///   - samplesPerSide: k, the points per cell side
    public init(channels: Int, grids: [Int] = [1, 6], samplesPerSide: Int = 4, generator: Generator? = nil) throws {
        guard !grids.isEmpty, grids.allSatisfy({ $0 > 0 }), samplesPerSide > 0 else {
            throw ModelError.invalidConfiguration("MGS grids \(grids) and samples per side \(samplesPerSide) must be positive")
        }
        projection = try Conv2d(channels, channels, kernelSize: 1, generator: generator)
        self.grids = grids
        self.samplesPerSide = samplesPerSide
        samplingGrid = SamplingGrid(points: try Self.makeSamplingGrid(grids: grids, k: samplesPerSide))
    }

    /// The number of regions, Σ g².
    public var regionCount: Int { grids.reduce(0) { $0 + $1 * $1 } }

    /// - Parameter features: [batch, C, H, W]
    /// - Returns: [batch, regions, C], each row L2-normalised; regions ordered grid by grid, row-major within a grid
    public func callAsFunction(_ features: Tensor) throws -> Tensor {
        guard features.rank == 4 else { throw ModelError.invalidInput("MGS pooling needs [batch, C, H, W], got \(features.shape)") }
        let (batch, channels) = (features.size(0), features.size(1))
        let k = samplesPerSide
        let grid = try samplingGrid.points.to(device: features.device, dtype: features.dtype).expanded(to: [batch, -1, -1, -1])
        // [batch, C, regions·k, k]
        let sampled = try Functional.gridSample(features, grid: grid, mode: .bilinear, padding: .border, alignCorners: false)
        let mixed = try projection(sampled)
        let regions = try mixed.reshaped([batch, channels, regionCount, k * k]).mean(dimension: 3)
        return try Functional.normalize(regions.transposed(1, 2), dimension: 2)
    }

    /// Sampling points at the centres of a k×k lattice inside every cell of every grid, in [-1, 1] coordinates
    /// (x first, as grid_sample expects).
    static func makeSamplingGrid(grids: [Int], k: Int) throws -> Tensor {
        var points: [Double] = []
        for g in grids {
            for row in 0..<g {
                for column in 0..<g {
                    for i in 0..<k {
                        for j in 0..<k {
                            let x = (Double(column) + (Double(j) + 0.5) / Double(k)) / Double(g)
                            let y = (Double(row) + (Double(i) + 0.5) / Double(k)) / Double(g)
                            points.append(2 * x - 1)
                            points.append(2 * y - 1)
                        }
                    }
                }
            }
        }
        let regions = grids.reduce(0) { $0 + $1 * $1 }
        return try Tensor(points, shape: [1, regions * k, k, 2]).to(.float32)
    }
}
