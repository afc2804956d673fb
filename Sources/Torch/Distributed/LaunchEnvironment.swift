import Foundation

/// The variables torchrun (and launchers compatible with it: `brivl train --nproc`, SLURM wrappers, mpirun
/// scripts) set for each worker process.
public struct LaunchEnvironment: Equatable, Sendable {
    /// MASTER_ADDR: where rank 0 serves the rendezvous store.
    public var masterAddress: String
    /// MASTER_PORT
    public var masterPort: Int
    /// RANK: this process's rank among all processes.
    public var rank: Int
    /// WORLD_SIZE: processes in the job.
    public var worldSize: Int
    /// LOCAL_RANK: rank among the processes on this machine (picks the GPU).
    public var localRank: Int
    /// LOCAL_WORLD_SIZE: processes on this machine (shares the CPU cores).
    public var localWorldSize: Int

    public init(masterAddress: String, masterPort: Int, rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int) {
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localWorldSize = localWorldSize
    }

    /// The environment's launch variables; nil when WORLD_SIZE is not set (a process started on its own).
    /// - Throws: when WORLD_SIZE is set but the other variables are missing or do not fit together.
    public static func read(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> LaunchEnvironment?
    {
        guard let worldText = environment["WORLD_SIZE"] else { return nil }
        func integer(_ name: String, _ text: String?) throws -> Int {
            guard let text else { throw TorchError.invalidArgument("WORLD_SIZE is set but \(name) is not") }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw TorchError.invalidArgument("\(name)=\(text) is not an integer")
            }
            return value
        }
        let worldSize = try integer("WORLD_SIZE", worldText)
        let rank = try integer("RANK", environment["RANK"])
        guard worldSize >= 1, (0..<worldSize).contains(rank) else {
            throw TorchError.invalidArgument("RANK=\(rank) does not fit WORLD_SIZE=\(worldSize)")
        }
        let localRank = try environment["LOCAL_RANK"].map { try integer("LOCAL_RANK", $0) } ?? rank
        let localWorldSize = try environment["LOCAL_WORLD_SIZE"].map { try integer("LOCAL_WORLD_SIZE", $0) } ?? worldSize
        guard localWorldSize >= 1, (0..<localWorldSize).contains(localRank) else {
            throw TorchError.invalidArgument("LOCAL_RANK=\(localRank) does not fit LOCAL_WORLD_SIZE=\(localWorldSize)")
        }
        let port = worldSize > 1 ? try integer("MASTER_PORT", environment["MASTER_PORT"]) : 29500
        guard (1...65535).contains(port) else { throw TorchError.invalidArgument("MASTER_PORT=\(port) is not a TCP port") }
        let address = environment["MASTER_ADDR"] ?? "127.0.0.1"
        guard worldSize == 1 || environment["MASTER_ADDR"] != nil else {
            throw TorchError.invalidArgument("WORLD_SIZE is set but MASTER_ADDR is not")
        }
        return LaunchEnvironment(
            masterAddress: address, masterPort: port, rank: rank, worldSize: worldSize, localRank: localRank,
            localWorldSize: localWorldSize)
    }

    /// The variables for worker `rank` of `worldSize` processes all on this machine.
    public static func local(rank: Int, worldSize: Int, port: Int) -> [String: String] {
        [
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)", "RANK": "\(rank)", "WORLD_SIZE": "\(worldSize)",
            "LOCAL_RANK": "\(rank)", "LOCAL_WORLD_SIZE": "\(worldSize)",
        ]
    }

    /// Joins the group these variables describe.
    public func joinGroup(backend: ProcessGroup.Backend = .gloo, timeout: Double) throws -> ProcessGroup {
        try ProcessGroup(
            backend: backend, host: masterAddress, port: masterPort, rank: rank, worldSize: worldSize, timeout: timeout)
    }

    /// A TCP port that is free on the loopback interface right now.
    public static func freeLocalPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TorchError.invalidArgument("cannot open a socket to find a free port") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw TorchError.invalidArgument("cannot bind a socket to find a free port") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TorchError.invalidArgument("cannot read the free port's number") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
