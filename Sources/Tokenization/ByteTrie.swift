/// A read-only trie over the UTF-8 bytes of a set of strings, each carrying a value (a token id), for the
/// longest-prefix lookups of WordPiece: one walk finds the longest vocabulary entry at a position, where the textbook
/// loop tries every shorter substring in turn.
///
/// Nodes are numbered breadth-first; a node's children are a contiguous, byte-sorted run of `labels`/`targets`.
/// The root's children are a dense 256-entry table.
struct ByteTrie: Sendable {
    /// Value of each node, or -1 when no string ends there.
    private let values: [Int32]
    private let childStart: [Int32]
    private let childCount: [UInt16]
    private let labels: [UInt8]
    private let targets: [Int32]
    private let rootChildren: [Int32]

    /// Builds the trie of `entries` (strings and their values). When a string occurs twice, the last value wins.
    init<S: Sequence>(_ entries: S) where S.Element == (key: [UInt8], value: Int32) {
        // A pointer-free builder: nodes with a child map each, then renumbered breadth-first.
        var builderChildren: [[UInt8: Int32]] = [[:]]
        var builderValues: [Int32] = [-1]
        for (key, value) in entries {
            var node = 0
            for byte in key {
                if let next = builderChildren[node][byte] {
                    node = Int(next)
                } else {
                    let next = Int32(builderChildren.count)
                    builderChildren[node][byte] = next
                    builderChildren.append([:])
                    builderValues.append(-1)
                    node = Int(next)
                }
            }
            builderValues[node] = value
        }
        var order: [Int32] = [0]  // breadth-first order of builder nodes
        var newIndex = [Int32](repeating: -1, count: builderChildren.count)
        newIndex[0] = 0
        var head = 0
        while head < order.count {
            let node = Int(order[head])
            head += 1
            for byte in builderChildren[node].keys.sorted() {
                let child = builderChildren[node][byte]!
                newIndex[Int(child)] = Int32(order.count)
                order.append(child)
            }
        }
        var values = [Int32](repeating: -1, count: order.count)
        var childStart = [Int32](repeating: 0, count: order.count)
        var childCount = [UInt16](repeating: 0, count: order.count)
        var labels: [UInt8] = []
        var targets: [Int32] = []
        labels.reserveCapacity(order.count)
        targets.reserveCapacity(order.count)
        for (index, oldNode) in order.enumerated() {
            values[index] = builderValues[Int(oldNode)]
            childStart[index] = Int32(labels.count)
            let children = builderChildren[Int(oldNode)]
            childCount[index] = UInt16(children.count)
            for byte in children.keys.sorted() {
                labels.append(byte)
                targets.append(newIndex[Int(children[byte]!)])
            }
        }
        var rootChildren = [Int32](repeating: -1, count: 256)
        for offset in 0..<Int(childCount[0]) {
            rootChildren[Int(labels[Int(childStart[0]) + offset])] = targets[Int(childStart[0]) + offset]
        }
        self.values = values
        self.childStart = childStart
        self.childCount = childCount
        self.labels = labels
        self.targets = targets
        self.rootChildren = rootChildren
    }

    /// The longest prefix of `bytes[start...]` that is a key: its end index and value, or nil when none is.
    /// Keys are valid UTF-8, so the end falls on a scalar boundary whenever `start` does.
    @inline(__always)
    func longestPrefix(of bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, value: Int32)? {
        values.withUnsafeBufferPointer { values in
            childStart.withUnsafeBufferPointer { childStart in
                childCount.withUnsafeBufferPointer { childCount in
                    labels.withUnsafeBufferPointer { labels in
                        targets.withUnsafeBufferPointer { targets in
                            rootChildren.withUnsafeBufferPointer { rootChildren in
                                var best: (end: Int, value: Int32)? = nil
                                var position = start
                                guard position < bytes.count else { return nil }
                                var node = Int(rootChildren[Int(bytes[position])])
                                while node >= 0 {
                                    position += 1
                                    let value = values[node]
                                    if value >= 0 { best = (position, value) }
                                    guard position < bytes.count else { break }
                                    node = Self.child(
                                        of: node, byte: bytes[position], childStart: childStart,
                                        childCount: childCount, labels: labels, targets: targets)
                                }
                                return best
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func child(
        of node: Int, byte: UInt8, childStart: UnsafeBufferPointer<Int32>, childCount: UnsafeBufferPointer<UInt16>,
        labels: UnsafeBufferPointer<UInt8>, targets: UnsafeBufferPointer<Int32>
    ) -> Int {
        var low = Int(childStart[node])
        var high = low + Int(childCount[node])
        if high - low <= 8 {
            while low < high {
                let label = labels[low]
                if label == byte { return Int(targets[low]) }
                if label > byte { return -1 }
                low += 1
            }
            return -1
        }
        while low < high {
            let middle = (low + high) >> 1
            let label = labels[middle]
            if label == byte { return Int(targets[middle]) }
            if label < byte { low = middle + 1 } else { high = middle }
        }
        return -1
    }
}
