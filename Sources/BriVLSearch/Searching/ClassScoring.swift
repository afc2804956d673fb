import Torch

/// Cosines of unit vectors against a set of class vectors, as matrix products in the engine rather than loops.
public enum ClassScoring {
    /// For each vector of `vectors` (rows of `dimension` floats, one after the other), the class it is closest to
    /// and that cosine. Rows go through in chunks, so a large collection never needs its full score matrix.
    public static func bestClasses(
        of vectors: [Float], dimension: Int, classVectors: [[Float]], chunkRows: Int = 4096
    ) throws -> [(classIndex: Int, score: Float)] {
        guard dimension > 0, vectors.count % dimension == 0 else {
            throw SearchError.invalidArgument("\(vectors.count) floats are not rows of \(dimension)")
        }
        let classes = try classMatrix(classVectors, dimension: dimension)
        let rowCount = vectors.count / dimension
        var best: [(classIndex: Int, score: Float)] = []
        best.reserveCapacity(rowCount)
        for start in stride(from: 0, to: rowCount, by: Swift.max(1, chunkRows)) {
            let rows = Swift.min(chunkRows, rowCount - start)
            let chunk = try Tensor(
                Array(vectors[start * dimension..<(start + rows) * dimension]), shape: [rows, dimension])
            let (values, indices) = try chunk.matmul(classes).max(dimension: 1)
            let scores = try values.toArray(Float.self)
            let labels = try indices.toArray(Int64.self)
            for (label, score) in zip(labels, scores) { best.append((Int(label), score)) }
        }
        return best
    }

    /// One vector's cosine with every class, in the classes' order.
    public static func scores(of vector: [Float], classVectors: [[Float]]) throws -> [Float] {
        let classes = try classMatrix(classVectors, dimension: vector.count)
        return try Tensor(vector, shape: [1, vector.count]).matmul(classes).reshaped([-1]).toArray(Float.self)
    }

    /// [dimension, classes]: the class vectors as columns.
    private static func classMatrix(_ classVectors: [[Float]], dimension: Int) throws -> Tensor {
        guard !classVectors.isEmpty, classVectors.allSatisfy({ $0.count == dimension }) else {
            throw SearchError.invalidArgument("one \(dimension)-d vector per class is needed")
        }
        return try Tensor(classVectors.flatMap { $0 }, shape: [classVectors.count, dimension]).transposed(0, 1)
            .contiguous()
    }
}
