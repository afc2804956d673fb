import BriVL

/// Where each vector the image tower hands to its head sits in the image.
public struct RegionLayout: Sendable, Equatable {
    /// One region: cell (`row`, `column`) of a `grid`×`grid` split of the image.
    public struct Cell: Codable, Sendable, Equatable {
        public var grid: Int
        public var row: Int
        public var column: Int
    }

    /// Per vector, in the tower's order; nil for vectors tied to no place (a ViT's class token).
    public let cells: [Cell?]

    public init(cells: [Cell?]) { self.cells = cells }

    /// The layout of a tower: MGS regions grid by grid (row-major within each), feature-map cells row by row, or a
    /// ViT's class token followed by its patches row by row.
    public init(_ configuration: ImageTowerConfiguration, featureMapSide: Int? = nil) throws {
        func grid(_ side: Int) -> [Cell?] {
            (0..<side * side).map { Cell(grid: side, row: $0 / side, column: $0 % side) }
        }
        switch configuration.backbone {
        case .vit(let vit):
            cells = [nil] + grid(vit.gridSize)
        case .resnet(_, _, .multiGridSplit(let grids, _)):
            cells = grids.flatMap(grid)
        case .resnet(_, _, .cells):
            guard let side = featureMapSide else {
                throw InterpretError.unsupportedModel("a feature-map tower needs its map side to place its cells")
            }
            cells = grid(side)
        }
    }

    /// The finest grid present (the heat map's resolution).
    public var finestGrid: Int { cells.compactMap { $0?.grid }.max() ?? 1 }

    /// Scores per vector → a finest-grid map [row][column], summing the coarser cells' scores over the finest cells
    /// they cover (each spread evenly over them).
    public func finestMap(_ scores: [Double]) -> [[Double]] {
        let side = finestGrid
        var map = [[Double]](repeating: [Double](repeating: 0, count: side), count: side)
        for (cell, score) in zip(cells, scores) {
            guard let cell else { continue }
            let span = side / cell.grid
            guard span * cell.grid == side else { continue }
            for row in cell.row * span..<(cell.row + 1) * span {
                for column in cell.column * span..<(cell.column + 1) * span {
                    map[row][column] += score / Double(span * span)
                }
            }
        }
        return map
    }
}
