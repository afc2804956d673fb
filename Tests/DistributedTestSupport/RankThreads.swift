import Foundation
import Torch

/// Runs `body` as `world` ranks of one Gloo group, each rank on its own thread of this process, and returns the
/// ranks' results in rank order. Rethrows the first rank's error.
public func withRanks<T: Sendable>(_ world: Int, timeout: Double = 60, _ body: @escaping @Sendable (ProcessGroup) throws -> T)
    throws -> [T]
{
    let port = try LaunchEnvironment.freeLocalPort()
    let results = RankResults<T>(count: world)
    let threads = (0..<world).map { rank in
        Thread {
            do {
                let group = try ProcessGroup(
                    backend: .gloo, host: "127.0.0.1", port: port, rank: rank, worldSize: world, timeout: timeout)
                results.set(rank, .success(try body(group)))
            } catch {
                results.set(rank, .failure(error))
            }
        }
    }
    threads.forEach { $0.stackSize = 8 << 20; $0.start() }
    return try results.wait()
}

final class RankResults<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var values: [Result<T, any Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ value: Result<T, any Error>) {
        condition.lock()
        values[rank] = value
        condition.broadcast()
        condition.unlock()
    }

    func wait() throws -> [T] {
        condition.lock()
        while values.contains(where: { $0 == nil }) { condition.wait() }
        let done = values.map { $0! }
        condition.unlock()
        return try done.map { try $0.get() }
    }
}
