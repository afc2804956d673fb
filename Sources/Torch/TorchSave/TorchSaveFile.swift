import Foundation

/// A file written by `torch.save` (the zip format of PyTorch ≥ 1.6), read without Python and without running
/// anything it names.
///
/// The archive holds `<name>/data.pkl` — a pickle of the saved object whose tensors refer to storages by a
/// persistent id — and one record `<name>/data/<key>` per storage. The file is memory-mapped and tensors view the
/// mapping (torch.save aligns records to 64 bytes); a misaligned record is copied once. Every tensor lives on the
/// CPU whatever device it was saved from, as `torch.load(…, map_location="cpu")` would give.
///
/// The pickle may name only plain containers (`collections.OrderedDict`), the tensor rebuilders of
/// `torch._utils`, the storage types and dtypes of `torch`, `torch.Size`, `torch.device` and `_codecs.encode`;
/// any other global is an error naming it.
public final class TorchSaveFile: @unchecked Sendable {
    public let path: String
    /// The saved object: for a bare state dict a dictionary of tensors, for a training checkpoint a dictionary
    /// holding one.
    public let root: PickleValue
    /// The records' common folder inside the archive (torch.save uses the file's stem, or `archive`).
    public let archiveName: String

    public init(_ path: String) throws {
        self.path = path
        let mapping = try MappedFile(path: path)
        let bytes = ByteReader(base: UnsafeRawPointer(mapping.base), count: mapping.size)
        func failure(_ message: String) -> TorchError { .torchSave(file: path, message: message) }

        if mapping.size >= 2, (try? bytes.uint8(at: 0)) == 0x80, (try? bytes.uint8(at: 1)).map({ $0 <= 5 }) == true {
            throw failure(
                "this is the legacy torch.save format (PyTorch < 1.6), which is not read; convert it once in Python "
                    + "with torch.save(torch.load(path, map_location='cpu'), new_path) under PyTorch ≥ 1.6, or save "
                    + "the state dict as safetensors")
        }
        guard ZipArchive.looksLikeZip(bytes) else {
            throw failure("not a torch.save archive (a zip file starts with PK\\x03\\x04)")
        }
        let archive: ZipArchive
        do { archive = try ZipArchive(bytes) } catch { throw failure(error.message) }

        if archive.records.contains(where: { $0.name.hasSuffix("/constants.pkl") && Self.depth($0.name) == 1 }) {
            throw failure(
                "this is a TorchScript archive (torch.jit.save), not a torch.save file; save its weights with "
                    + "torch.save(model.state_dict(), path)")
        }
        guard let pickle = archive.records.first(where: { $0.name.hasSuffix("/data.pkl") && Self.depth($0.name) == 1 })
        else {
            throw failure("the archive has no <name>/data.pkl record: not written by torch.save")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        archiveName = String(prefix.dropLast())
        if let order = archive[prefix + "byteorder"] {
            let range: Range<Int>
            do { range = try order.storedRange() } catch { throw failure(error.message) }
            let text = String(
                decoding: UnsafeRawBufferPointer(start: bytes.base + range.lowerBound, count: range.count), as: UTF8.self)
            guard text == "little" else { throw failure("tensors are stored \(text)-endian; only little-endian is read") }
        }

        let interpreter = TorchSaveInterpreter(file: path, archive: archive, recordPrefix: prefix + "data/", mapping: mapping)
        let pickleRange: Range<Int>
        do { pickleRange = try pickle.storedRange() } catch { throw failure(error.message) }
        do {
            root = try Unpickler.load(bytes.slice(pickleRange), interpreter: interpreter).frozen()
        } catch {
            throw failure("data.pkl: \(error.message)")
        }
    }

    private static func depth(_ name: String) -> Int { name.filter { $0 == "/" }.count }

    /// The state dict in the file: the root when it maps names to tensors, else the first of `keys` under the root
    /// that does (training checkpoints keep it under `state_dict`, `model`, …).
    public func stateDictionary(
        searching keys: [String] = ["state_dict", "model", "model_state_dict", "learnable", "module"]
    ) throws -> [String: Tensor] {
        if let tensors = root.tensorDictionary { return tensors }
        for key in keys {
            if let tensors = root[key]?.tensorDictionary { return tensors }
        }
        let present = root.stringKeys.map { "\($0): \(root[$0]!)" }.joined(separator: ", ")
        throw TorchError.torchSave(
            file: path,
            message: "holds no state dict at its root or under \(keys.joined(separator: ", "))"
                + (present.isEmpty ? " (the root is \(root))" : " (its root holds \(present))"))
    }
}

/// The storages of one archive, and what the allowed globals do.
private final class TorchSaveInterpreter: PickleInterpreter {
    /// One storage record: typed memory that tensors view.
    final class Storage {
        let key: String
        let dtype: DType
        let pointer: UnsafeMutableRawPointer
        let elementCount: Int
        /// What keeps `pointer` valid: the file mapping, or an aligned copy of a misaligned record.
        let owner: AnyObject & Sendable

        init(
            key: String, dtype: DType, pointer: UnsafeMutableRawPointer, elementCount: Int, owner: AnyObject & Sendable
        ) {
            self.key = key
            self.dtype = dtype
            self.pointer = pointer
            self.elementCount = elementCount
            self.owner = owner
        }
    }

    /// An aligned copy of a record that torch.save did not align (an archive repacked by another zip tool).
    final class AlignedCopy: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        init(copying source: UnsafeRawPointer, count: Int) {
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
            pointer.copyMemory(from: source, byteCount: count)
        }
        deinit { pointer.deallocate() }
    }

    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
        "ByteStorage": .uint8, "BoolStorage": .bool,
    ]
    /// Constants a checkpoint may name as values (dtypes, memory formats); they are kept as names.
    static let constants: Set<String> = [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int",
        "int16", "short", "int8", "uint8", "bool", "contiguous_format", "channels_last", "preserve_format",
    ]
    static let rebuilders: Set<String> = ["_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state"]

    let file: String
    let archive: ZipArchive
    let recordPrefix: String
    let mapping: MappedFile
    private var storages: [String: Storage] = [:]

    init(file: String, archive: ZipArchive, recordPrefix: String, mapping: MappedFile) {
        self.file = file
        self.archive = archive
        self.recordPrefix = recordPrefix
        self.mapping = mapping
    }

    func allowsGlobal(module: String, name: String) -> Bool {
        switch module {
        case "collections": name == "OrderedDict"
        case "torch._utils": Self.rebuilders.contains(name)
        case "torch": Self.storageTypes[name] != nil || Self.constants.contains(name) || name == "Size" || name == "device"
        case "_codecs": name == "encode"
        default: false
        }
    }

    func call(module: String, name: String, arguments: [PickleNode]) throws(PickleError) -> PickleNode {
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let box = PickleNode.DictionaryBox()
            if let items = arguments.first?.tupleItems {
                for item in items {
                    guard let pair = item.tupleItems, pair.count == 2 else {
                        throw .malformed("OrderedDict items are not pairs")
                    }
                    box.pairs.append((pair[0], pair[1]))
                }
            }
            return .dictionary(box)
        case ("torch._utils", "_rebuild_tensor_v2"):
            return .value(.tensor(try rebuildTensor(arguments)))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            // (data, requires_grad, backward_hooks[, state]): the weights are the data.
            guard let data = arguments.first, case .value(.tensor) = data else {
                throw .malformed("\(name) without a tensor")
            }
            return data
        case ("torch", "Size"):
            return .tuple(arguments.first?.tupleItems ?? [])
        case ("torch", "device"):
            let parts = arguments.compactMap { $0.string ?? $0.integer.map(String.init) }
            return .value(.string(parts.joined(separator: ":")))
        case ("_codecs", "encode"):
            // Protocol 2's spelling of bytes: encode(text, 'latin1').
            guard let text = arguments.first?.string else { throw .malformed("_codecs.encode without text") }
            let encoding = arguments.count > 1 ? arguments[1].string ?? "" : "utf-8"
            switch encoding.lowercased() {
            case "latin1", "latin-1", "iso-8859-1":
                let scalars = text.unicodeScalars
                guard scalars.allSatisfy({ $0.value < 256 }) else { throw .malformed("non-latin-1 text for latin1 bytes") }
                return .value(.bytes(scalars.map { UInt8($0.value) }))
            case "utf-8", "utf8": return .value(.bytes(Array(text.utf8)))
            default: throw .unsupported("_codecs.encode with encoding \(encoding)")
            }
        default:
            throw .unsupported("\(module).\(name) cannot be called")
        }
    }

    /// `('storage', <torch.XStorage>, key, location, element count)`: the record `data/<key>`.
    func persistentLoad(_ id: PickleNode) throws(PickleError) -> PickleNode {
        guard let fields = id.tupleItems, fields.count == 5, fields[0].string == "storage",
            case .global("torch", let typeName) = fields[1], let key = fields[2].string,
            let count = fields[4].integer
        else {
            throw .unsupported("a persistent id that is not a storage reference")
        }
        guard let dtype = Self.storageTypes[typeName] else { throw .unsupported("storage type torch.\(typeName)") }
        if let known = storages[key] {
            guard known.dtype == dtype else { throw .malformed("storage \(key) is read as two dtypes") }
            return .opaque(known)
        }
        guard let record = archive[recordPrefix + key] else {
            throw .malformed("storage \(key) has no record \(recordPrefix + key)")
        }
        let range: Range<Int>
        do { range = try record.storedRange() } catch { throw .unsupported(error.message) }
        guard count >= 0, let bytes = SafetensorsFile.byteCount(shape: [count], elementSize: dtype.byteSize),
            bytes <= range.count
        else {
            throw .malformed("storage \(key) of \(count) \(dtype) elements does not fit its \(range.count)-byte record")
        }
        let address = mapping.base + range.lowerBound
        let storage: Storage
        if Int(bitPattern: address) % dtype.byteSize == 0 {
            storage = Storage(key: key, dtype: dtype, pointer: address, elementCount: count, owner: mapping)
        } else {
            let copy = AlignedCopy(copying: address, count: bytes)
            storage = Storage(key: key, dtype: dtype, pointer: copy.pointer, elementCount: count, owner: copy)
        }
        storages[key] = storage
        return .opaque(storage)
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`:
    /// a view of the storage, bounds-checked.
    private func rebuildTensor(_ arguments: [PickleNode]) throws(PickleError) -> Tensor {
        guard arguments.count >= 4, case .opaque(let object) = arguments[0], let storage = object as? Storage else {
            throw .malformed("_rebuild_tensor_v2 without a storage")
        }
        guard let offset = arguments[1].integer, let sizeItems = arguments[2].tupleItems,
            let strideItems = arguments[3].tupleItems
        else {
            throw .malformed("_rebuild_tensor_v2 with a malformed offset, size or stride")
        }
        let shape = sizeItems.compactMap(\.integer)
        let strides = strideItems.compactMap(\.integer)
        guard shape.count == sizeItems.count, strides.count == strideItems.count, shape.count == strides.count else {
            throw .malformed("_rebuild_tensor_v2 with size \(sizeItems.count) and stride \(strideItems.count) entries")
        }
        guard offset >= 0, offset <= storage.elementCount, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }),
            let span = Tensor.viewedByteCount(shape: shape, strides: strides, elementSize: storage.dtype.byteSize),
            span <= (storage.elementCount - offset) * storage.dtype.byteSize
        else {
            throw .malformed(
                "a tensor of size \(shape), stride \(strides) at offset \(offset) lies outside storage \(storage.key) "
                    + "of \(storage.elementCount) elements")
        }
        let owner = storage.owner
        do {
            return try Tensor(
                wrapping: storage.pointer + offset * storage.dtype.byteSize, shape: shape, strides: strides,
                dtype: storage.dtype
            ) { withExtendedLifetime(owner) {} }
        } catch {
            throw .malformed("cannot view storage \(storage.key): \(error)")
        }
    }
}
