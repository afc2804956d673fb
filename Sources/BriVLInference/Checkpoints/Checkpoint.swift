import Foundation
import Torch

/// One complete checkpoint folder (`step-00000100/`): named tensor groups (`<name>.safetensors`), named JSON
/// documents (`<name>.json`) and the manifest that lists them.
///
/// Every read checks the file against the manifest first (size, then checksum), so a damaged checkpoint is an
/// error naming the file rather than a model that silently loads wrong numbers.
public struct Checkpoint: Sendable, Equatable {
    public let step: Int
    /// The folder.
    public let path: String
    public let manifest: CheckpointManifest

    static let tensorExtension = ".safetensors"
    static let documentExtension = ".json"

    /// Names of the tensor groups, sorted.
    public var tensorGroups: [String] { names(withExtension: Self.tensorExtension) }

    /// Names of the JSON documents, sorted.
    public var documents: [String] { names(withExtension: Self.documentExtension) }

    private func names(withExtension fileExtension: String) -> [String] {
        manifest.files.map(\.name).filter { $0.hasSuffix(fileExtension) }
            .map { String($0.dropLast(fileExtension.count)) }
    }

    /// The tensors of group `name`, after checking its file. Tensors view the memory-mapped file.
    public func tensors(_ name: String) throws -> [String: Tensor] {
        let filePath = try verifiedFile(
            name, fileExtension: Self.tensorExtension, kind: "tensor group", listed: tensorGroups)
        do {
            return try Safetensors.load(filePath)
        } catch {
            throw InferenceError.checkpoint("\(filePath) does not load: \(error)")
        }
    }

    /// The JSON document `name` decoded as `type`, after checking its file.
    public func document<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let filePath = try verifiedFile(
            name, fileExtension: Self.documentExtension, kind: "document", listed: documents)
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: filePath)))
        } catch {
            throw InferenceError.checkpoint("\(filePath) does not decode as \(T.self): \(error)")
        }
    }

    /// Checks every file of the manifest: present, of the recorded size and checksum.
    public func verify() throws {
        for file in manifest.files { try verify(file) }
    }

    private func verifiedFile(_ name: String, fileExtension: String, kind: String, listed: [String]) throws -> String {
        guard let file = manifest.file(named: name + fileExtension) else {
            let available = listed.isEmpty ? "none" : listed.joined(separator: ", ")
            throw InferenceError.checkpoint("\(path) has no \(kind) named \(name) (it has: \(available))")
        }
        try verify(file)
        return (path as NSString).appendingPathComponent(file.name)
    }

    private func verify(_ file: CheckpointManifest.File) throws {
        let filePath = (path as NSString).appendingPathComponent(file.name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: filePath),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            throw InferenceError.checkpoint("\(filePath) is missing")
        }
        guard size == file.bytes else {
            let what = size < file.bytes ? "truncated" : "longer than written"
            throw InferenceError.checkpoint("\(filePath) is \(what): \(size) bytes, the manifest records \(file.bytes)")
        }
        let measured = try FileChecksum.measure(filePath)
        guard measured.bytes == file.bytes, measured.checksum == file.checksum else {
            throw InferenceError.checkpoint(
                "\(filePath) is corrupt: checksum \(measured.checksum), the manifest records \(file.checksum)")
        }
    }
}
