import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File-system steps whose order and durability make a checkpoint appear all at once: write and flush files,
/// flush folders (so the names in them survive a crash), and swap two folders in one step.
enum DurableFiles {
    static func failure(_ what: String, _ path: String) -> InferenceError {
        .checkpoint("\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Creates (or truncates) `path` with `data` and flushes it to the disk before returning.
    static func writeFile(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create", path) }
        defer { close(descriptor) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write", path)
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("cannot flush", path) }
    }

    /// Flushes a folder's entries: after a rename or a new file, the name itself is only durable once its folder is.
    static func synchronizeDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure("cannot open", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot flush", path) }
    }

    static func move(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw InferenceError.checkpoint(
                "cannot rename \(source) to \(destination): \(String(cString: strerror(errno)))")
        }
    }

    /// Atomically swaps two existing paths, so that a folder is replaced without a moment in which neither the old
    /// nor the new one is in place. Returns false where the system or the file system cannot do it.
    static func exchange(_ first: String, _ second: String) -> Bool {
        #if canImport(Glibc)
            guard let renameAt2 = renameAt2Function else { return false }
            return renameAt2(AT_FDCWD, first, AT_FDCWD, second, renameExchange) == 0
        #elseif canImport(Darwin)
            return renamex_np(first, second, UInt32(RENAME_SWAP)) == 0
        #else
            return false
        #endif
    }

    #if canImport(Glibc)
        private typealias RenameAt2 = @convention(c) (
            Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
        ) -> Int32
        /// RENAME_EXCHANGE of <linux/fs.h>.
        private static let renameExchange: UInt32 = 1 << 1
        /// glibc ≥ 2.28 has renameat2, but Swift's Glibc module does not declare it; it is looked up at run time.
        private static let renameAt2Function: RenameAt2? = {
            guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "renameat2") else { return nil }
            return unsafeBitCast(symbol, to: RenameAt2.self)
        }()
    #endif
}
