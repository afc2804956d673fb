import DistributedTestSupport
import Foundation
import Testing
import Torch

@Suite("Process groups over Gloo (ranks as threads)", .serialized)
struct ProcessGroupTests {
    @Test("all-reduce sums and maxima over 2 and 4 ranks", arguments: [2, 4])
    func allReduce(world: Int) throws {
        let results = try withRanks(world) { group in
            let values = try Tensor([Double(group.rank + 1), Double(10 * group.rank)], shape: [2])
            let maxima = try Tensor([Double(group.rank), -Double(group.rank)], shape: [2])
            try group.allReduce([values], .sum)
            try group.allReduce([maxima], .max)
            return try values.toArray(Double.self) + maxima.toArray(Double.self)
        }
        let n = Double(world)
        for result in results {
            #expect(result == [n * (n + 1) / 2, 10 * n * (n - 1) / 2, n - 1, 0])
        }
    }

    @Test("all-gather concatenates in rank order; broadcast copies the root; reduce-scatter slices the sum", arguments: [2, 4])
    func gatherBroadcastScatter(world: Int) throws {
        let results = try withRanks(world) { group -> [[Double]] in
            let rank = Double(group.rank)
            let gathered = try group.allGather(Tensor([rank, rank + 0.5], shape: [1, 2]))
            let shared = try Tensor([rank, rank, rank], shape: [3])
            try group.broadcast([shared], from: world - 1)
            let whole = try Tensor((0..<(2 * world)).map { Double($0) + rank }, shape: [2 * world])
            let mine = try group.reduceScatter(whole, .sum)
            try group.barrier()
            return [
                try gathered.toArray(Double.self), gathered.shape.map(Double.init), try shared.toArray(Double.self),
                try mine.toArray(Double.self),
            ]
        }
        let rankSum = Double(world * (world - 1) / 2)
        for (rank, result) in results.enumerated() {
            let gathered: [Double] = (0..<world).flatMap { [Double($0), Double($0) + 0.5] }
            #expect(result[0] == gathered)
            #expect(result[1] == [Double(world), 2])
            #expect(result[2] == Array(repeating: Double(world - 1), count: 3))
            let scattered: [Double] = [2 * rank, 2 * rank + 1].map { Double($0 * world) + rankSum }
            #expect(result[3] == scattered)
        }
    }

    @Test("a loss on gathered rows has, through the local rows, its full gradient")
    func gatherKeepingLocalGraph() throws {
        let world = 2
        let rows = 3
        // The single-process reference: the loss over all rows at once.
        let all = try normalInput([world * rows, 4], seed: 11)
        @Sendable func loss(_ x: Tensor) throws -> Tensor { try (x.matmul(x.transposed()).exp()).sum().log() }
        let leaf = try all.clone().requiringGrad()
        try loss(leaf).backward()
        let expected = try leaf.grad!.toArray(Double.self)

        let gradients = try withRanks(world) { group -> [Double] in
            let local = try all.narrowed(dimension: 0, start: group.rank * rows, length: rows).clone().requiringGrad()
            let gathered = try group.gatherKeepingLocalGraph(local)
            try loss(gathered).backward()
            return try local.grad!.toArray(Double.self)
        }
        expectClose(gradients.flatMap { $0 }, expected, absolute: 1e-12, relative: 1e-12)
    }

    @Test("bad arguments are refused before any rendezvous")
    func badArguments() {
        #expect(throws: TorchError.self) { try ProcessGroup(backend: .gloo, host: "127.0.0.1", port: 1, rank: 2, worldSize: 2) }
        #expect(throws: TorchError.self) { try ProcessGroup(backend: .gloo, host: "127.0.0.1", port: 0, rank: 0, worldSize: 1) }
        #expect(throws: TorchError.self) {
            try ProcessGroup(backend: .gloo, host: "127.0.0.1", port: 29500, rank: 0, worldSize: 1, timeout: 0)
        }
    }

    @Test("a rank that never arrives ends the rendezvous with an error after the timeout")
    func missingRankTimesOut() throws {
        let port = try LaunchEnvironment.freeLocalPort()
        let start = Date()
        #expect(throws: TorchError.self) {
            try ProcessGroup(backend: .gloo, host: "127.0.0.1", port: port, rank: 0, worldSize: 2, timeout: 2)
        }
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test("torchrun's variables are read and checked")
    func launchEnvironment() throws {
        #expect(try LaunchEnvironment.read([:]) == nil)
        let parsed = try LaunchEnvironment.read(
            ["WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "node0",
             "MASTER_PORT": "29400"])
        let expected = LaunchEnvironment(
            masterAddress: "node0", masterPort: 29400, rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2)
        #expect(parsed == expected)
        #expect(try LaunchEnvironment.read(LaunchEnvironment.local(rank: 1, worldSize: 2, port: 1234))?.rank == 1)
        #expect(throws: TorchError.self) { try LaunchEnvironment.read(["WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "a", "MASTER_PORT": "1"]) }
        #expect(throws: TorchError.self) { try LaunchEnvironment.read(["WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "1"]) }
        #expect(throws: TorchError.self) { try LaunchEnvironment.read(["WORLD_SIZE": "two", "RANK": "0"]) }
    }
}
