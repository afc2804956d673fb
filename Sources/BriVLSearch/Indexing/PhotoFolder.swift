import Foundation

/// One image file found in a collection's folder.
public struct ScannedFile: Sendable, Equatable {
    /// Relative to the root, `/`-separated.
    public var path: String
    public var size: Int64
    public var modified: Double
}

/// Finds the images of a collection: every JPEG, PNG or WebP file under a folder, recursively, by extension.
/// Hidden files and folders (a leading dot) are skipped, as are symbolic links, so a scan never leaves the root.
public enum PhotoFolder {
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp"]

    /// The images under `root`, sorted by path.
    public static func scan(_ root: String) throws -> [ScannedFile] {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootURL.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SearchError.io(path: root, message: "not a folder")
        }
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey, .fileSizeKey, .contentModificationDateKey]
        guard
            let walker = FileManager.default.enumerator(
                at: rootURL, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
        else {
            throw SearchError.io(path: root, message: "cannot list the folder")
        }
        let prefix = rootURL.path.hasSuffix("/") ? rootURL.path : rootURL.path + "/"
        var files: [ScannedFile] = []
        for case let url as URL in walker {
            guard imageExtensions.contains(url.pathExtension.lowercased()) else { continue }
            let values = try? url.resourceValues(forKeys: Set(keys))
            guard let values, values.isRegularFile == true, values.isSymbolicLink != true else { continue }
            let fullPath = url.standardizedFileURL.path
            guard fullPath.hasPrefix(prefix) else { continue }
            files.append(
                ScannedFile(
                    path: String(fullPath.dropFirst(prefix.count)), size: Int64(values.fileSize ?? 0),
                    modified: values.contentModificationDate?.timeIntervalSince1970 ?? 0))
        }
        return files.sorted { $0.path < $1.path }
    }

    /// The caption beside an image: the contents of the `.txt` file with the same name, trimmed, if any.
    public static func caption(forImageAt path: String) -> String? {
        let sidecar = (path as NSString).deletingPathExtension + ".txt"
        guard let text = try? String(contentsOfFile: sidecar, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// FNV-1a, 64 bits, of a file's bytes: tells a changed file from one whose modification time alone moved. It detects
/// accidental change, which is all the indexer needs; it is not meant to resist deliberate collisions.
public enum ContentHash {
    public static func of(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        return String(format: "%016llx", hash)
    }
}
