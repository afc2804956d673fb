/// What a pickle's globals, calls and persistent ids mean. The unpickler only moves data; everything that could
/// run code in Python goes through here, and an interpreter refuses what it does not know.
protocol PickleInterpreter {
    /// Whether `module.name` may be named at all; any other is refused when the pickle names it.
    func allowsGlobal(module: String, name: String) -> Bool
    /// The result of calling an allowed global with `arguments` (REDUCE and NEWOBJ).
    func call(module: String, name: String, arguments: [PickleNode]) throws(PickleError) -> PickleNode
    /// The object a persistent id stands for (torch.save: a storage record).
    func persistentLoad(_ id: PickleNode) throws(PickleError) -> PickleNode
}

/// An object on the unpickler's stack or in its memo. Lists and dictionaries are references, as in Python, so that
/// items appended after memoisation reach every place that holds them.
enum PickleNode {
    case value(PickleValue)
    case list(ListBox)
    case dictionary(DictionaryBox)
    case tuple([PickleNode])
    case global(module: String, name: String)
    /// Something an interpreter made that has no plain-data form of its own (a storage).
    case opaque(AnyObject)

    final class ListBox {
        var items: [PickleNode] = []
    }

    final class DictionaryBox {
        var pairs: [(key: PickleNode, value: PickleNode)] = []
    }

    /// The plain value; containers nested deeper than `depthLimit` (or cyclic) are an error.
    func frozen(depthLimit: Int = 512) throws(PickleError) -> PickleValue {
        guard depthLimit > 0 else { throw .malformed("containers are nested too deeply (or contain themselves)") }
        switch self {
        case .value(let value): return value
        case .list(let box): return .list(try box.items.map { node throws(PickleError) in try node.frozen(depthLimit: depthLimit - 1) })
        case .tuple(let items): return .tuple(try items.map { node throws(PickleError) in try node.frozen(depthLimit: depthLimit - 1) })
        case .dictionary(let box):
            var pairs: [(key: PickleValue, value: PickleValue)] = []
            pairs.reserveCapacity(box.pairs.count)
            for (key, value) in box.pairs {
                pairs.append((try key.frozen(depthLimit: depthLimit - 1), try value.frozen(depthLimit: depthLimit - 1)))
            }
            return .dictionary(pairs)
        case .global(let module, let name): return .global(module: module, name: name)
        case .opaque(let object): throw .malformed("a \(type(of: object)) outside the tensor that should hold it")
        }
    }

    var integer: Int? { if case .value(.int(let value)) = self { value } else { nil } }
    var string: String? { if case .value(.string(let value)) = self { value } else { nil } }
    var tupleItems: [PickleNode]? {
        switch self {
        case .tuple(let items): items
        case .list(let box): box.items
        default: nil
        }
    }
}

enum PickleError: Error {
    /// The byte stream is not a valid pickle (truncated, stack underflow, unknown memo index…).
    case malformed(String)
    /// Valid pickle, but outside the subset checkpoints use.
    case unsupported(String)
    /// The pickle names a global that is not on the allow-list.
    case forbiddenGlobal(String)

    var message: String {
        switch self {
        case .malformed(let message), .unsupported(let message): message
        case .forbiddenGlobal(let name):
            "the pickle names \(name), which is not on the allow-list of plain data and tensor rebuilders; "
                + "nothing was executed"
        }
    }
}

/// A pickle virtual machine for the opcodes of protocols 0–5 that state dicts and training checkpoints use, over a
/// bounds-checked byte buffer. It has no way to import or run anything: globals are names, and calls go to the
/// interpreter.
struct Unpickler {
    private let bytes: ByteReader
    private let interpreter: any PickleInterpreter
    private var position = 0
    private var stack: [PickleNode] = []
    /// Where each MARK left the stack.
    private var marks: [Int] = []
    private var memo: [Int: PickleNode] = [:]

    init(_ bytes: ByteReader, interpreter: any PickleInterpreter) {
        self.bytes = bytes
        self.interpreter = interpreter
    }

    /// Runs the pickle to its STOP and returns the object it built.
    static func load(_ bytes: ByteReader, interpreter: any PickleInterpreter) throws(PickleError) -> PickleNode {
        var machine = Unpickler(bytes, interpreter: interpreter)
        return try machine.run()
    }

    private mutating func run() throws(PickleError) -> PickleNode {
        while true {
            let offset = position
            let opcode = try byte()
            do {
                if let result = try execute(opcode) { return result }
            } catch {
                throw Self.annotate(error, offset: offset, opcode: opcode)
            }
        }
    }

    private static func annotate(_ error: PickleError, offset: Int, opcode: UInt8) -> PickleError {
        let label = "opcode 0x\(String(opcode, radix: 16)) at byte \(offset)"
        switch error {
        case .malformed(let message): return .malformed("\(message) (\(label))")
        case .unsupported(let message): return .unsupported("\(message) (\(label))")
        case .forbiddenGlobal: return error
        }
    }

    /// Executes one opcode; returns the result at STOP.
    ///
    /// Everything popped is bound to a name before the stack is touched again: `stack.append(try pop())` or
    /// `method(try pop())` would read the stack as it was before the pop.
    private mutating func execute(_ opcode: UInt8) throws(PickleError) -> PickleNode? {
        switch opcode {
        case 0x80:  // PROTO
            let version = try byte()
            guard version <= 5 else { throw .unsupported("pickle protocol \(version)") }
        case 0x95:  // FRAME: a length prefix only
            _ = try integer(bytes: 8)
        case 0x2e:  // STOP
            let result = try pop()
            guard stack.isEmpty, marks.isEmpty else { throw .malformed("the stack is not empty at STOP") }
            return result

        // Marks and stack.
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x32: stack.append(try top())  // DUP

        // Scalars.
        case 0x4e: stack.append(.value(.none))  // NONE
        case 0x88: stack.append(.value(.bool(true)))  // NEWTRUE
        case 0x89: stack.append(.value(.bool(false)))  // NEWFALSE
        case 0x4b: stack.append(.value(.int(try integer(bytes: 1))))  // BININT1
        case 0x4d: stack.append(.value(.int(try integer(bytes: 2))))  // BININT2
        case 0x4a: stack.append(.value(.int(try signedInteger(bytes: 4))))  // BININT
        case 0x8a: stack.append(.value(.int(try signedInteger(bytes: try integer(bytes: 1)))))  // LONG1
        case 0x8b: stack.append(.value(.int(try signedInteger(bytes: try signedInteger(bytes: 4)))))  // LONG4
        case 0x47:  // BINFLOAT: big-endian IEEE double
            let raw = try read(8)
            stack.append(.value(.float(Double(bitPattern: raw.reduce(0) { $0 << 8 | UInt64($1) }))))
        case 0x58: stack.append(.value(.string(try text(length: try integer(bytes: 4)))))  // BINUNICODE
        case 0x8c: stack.append(.value(.string(try text(length: try integer(bytes: 1)))))  // SHORT_BINUNICODE
        case 0x8d: stack.append(.value(.string(try text(length: try integer(bytes: 8)))))  // BINUNICODE8
        case 0x55: stack.append(.value(.string(try text(length: try integer(bytes: 1)))))  // SHORT_BINSTRING
        case 0x54: stack.append(.value(.string(try text(length: try signedInteger(bytes: 4)))))  // BINSTRING
        case 0x43: stack.append(.value(.bytes(Array(try read(try integer(bytes: 1))))))  // SHORT_BINBYTES
        case 0x42: stack.append(.value(.bytes(Array(try read(try integer(bytes: 4))))))  // BINBYTES
        case 0x8e: stack.append(.value(.bytes(Array(try read(try integer(bytes: 8))))))  // BINBYTES8

        // Containers.
        case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
        case 0x85:  // TUPLE1
            let items = try pop(1)
            stack.append(.tuple(items))
        case 0x86:  // TUPLE2
            let items = try pop(2)
            stack.append(.tuple(items))
        case 0x87:  // TUPLE3
            let items = try pop(3)
            stack.append(.tuple(items))
        case 0x74:  // TUPLE
            let items = try popMark()
            stack.append(.tuple(items))
        case 0x5d: stack.append(.list(PickleNode.ListBox()))  // EMPTY_LIST
        case 0x6c:  // LIST
            let box = PickleNode.ListBox()
            box.items = try popMark()
            stack.append(.list(box))
        case 0x61:  // APPEND (the item is popped first: the list is the new top)
            let item = try pop()
            try append(item)
        case 0x65:  // APPENDS
            for item in try popMark() { try append(item) }
        case 0x7d: stack.append(.dictionary(PickleNode.DictionaryBox()))  // EMPTY_DICT
        case 0x64:  // DICT
            let box = PickleNode.DictionaryBox()
            try Self.insert(try popMark(), into: box)
            stack.append(.dictionary(box))
        case 0x73:  // SETITEM
            let pair = try pop(2)  // popped before the dictionary below it is looked up
            try Self.insert(pair, into: try dictionaryOnTop())
        case 0x75:  // SETITEMS
            let items = try popMark()
            try Self.insert(items, into: try dictionaryOnTop())

        // Memo.
        case 0x71: memo[try integer(bytes: 1)] = try top()  // BINPUT
        case 0x72: memo[try integer(bytes: 4)] = try top()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()  // MEMOIZE
        case 0x68: stack.append(try memoized(try integer(bytes: 1)))  // BINGET
        case 0x6a: stack.append(try memoized(try integer(bytes: 4)))  // LONG_BINGET

        // Globals, calls and persistent ids: names and the interpreter only.
        case 0x63:  // GLOBAL
            let module = try line()
            let name = try line()
            stack.append(try global(module: module, name: name))
        case 0x93:  // STACK_GLOBAL
            let pair = try pop(2)
            guard let module = pair[0].string, let name = pair[1].string else {
                throw .malformed("STACK_GLOBAL needs two strings")
            }
            stack.append(try global(module: module, name: name))
        case 0x52, 0x81:  // REDUCE, NEWOBJ
            let pair = try pop(2)
            guard case .global(let module, let name) = pair[0] else {
                throw .unsupported("a call of something that is not a named global")
            }
            guard let arguments = pair[1].tupleItems else { throw .malformed("call arguments are not a tuple") }
            stack.append(try interpreter.call(module: module, name: name, arguments: arguments))
        case 0x62:  // BUILD: state set on the object
            let state = try pop()
            try build(try top(), state: state)
        case 0x51:  // BINPERSID
            let id = try pop()
            stack.append(try interpreter.persistentLoad(id))

        default:
            throw .unsupported("opcode 0x\(String(opcode, radix: 16)) is outside the subset that checkpoints use")
        }
        return nil
    }

    // MARK: - Stack

    private mutating func pop() throws(PickleError) -> PickleNode {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else { throw .malformed("stack underflow") }
        stack.removeLast()
        return last
    }

    private mutating func pop(_ count: Int) throws(PickleError) -> [PickleNode] {
        guard stack.count - count >= (marks.last ?? 0) else { throw .malformed("stack underflow") }
        let items = Array(stack.suffix(count))
        stack.removeLast(count)
        return items
    }

    private func top() throws(PickleError) -> PickleNode {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else { throw .malformed("stack underflow") }
        return last
    }

    private mutating func popMark() throws(PickleError) -> [PickleNode] {
        guard let mark = marks.popLast() else { throw .malformed("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func memoized(_ index: Int) throws(PickleError) -> PickleNode {
        guard let node = memo[index] else { throw .malformed("memo index \(index) was never stored") }
        return node
    }

    private func append(_ item: PickleNode) throws(PickleError) {
        let target = try top()
        guard case .list(let box) = target else { throw .unsupported("APPEND to \(target), not a list") }
        box.items.append(item)
    }

    private func dictionaryOnTop() throws(PickleError) -> PickleNode.DictionaryBox {
        guard case .dictionary(let box) = try top() else {
            throw .unsupported("SETITEM on something that is not a dictionary")
        }
        return box
    }

    private static func insert(_ flat: [PickleNode], into box: PickleNode.DictionaryBox) throws(PickleError) {
        guard flat.count % 2 == 0 else { throw .malformed("a dictionary's items come in an odd number") }
        for index in stride(from: 0, to: flat.count, by: 2) { box.pairs.append((flat[index], flat[index + 1])) }
    }

    private func global(module: String, name: String) throws(PickleError) -> PickleNode {
        guard interpreter.allowsGlobal(module: module, name: name) else { throw .forbiddenGlobal("\(module).\(name)") }
        return .global(module: module, name: name)
    }

    /// BUILD: a dictionary's state (an OrderedDict's attributes, such as a state dict's `_metadata`) carries no
    /// weights and is dropped; tensors ignore theirs; anything else is refused.
    private func build(_ object: PickleNode, state: PickleNode) throws(PickleError) {
        switch object {
        case .dictionary, .value(.tensor): return
        default: throw .unsupported("BUILD on \(object) with state")
        }
    }

    // MARK: - Bytes

    private mutating func read(_ count: Int) throws(PickleError) -> UnsafeRawBufferPointer {
        do {
            let slice = try bytes.bytes(at: position, count: count)
            position += count
            return slice
        } catch {
            throw .malformed("the pickle ends inside a \(count)-byte field at byte \(position): truncated?")
        }
    }

    private mutating func byte() throws(PickleError) -> UInt8 { try read(1)[0] }

    /// An unsigned little-endian integer of `count` bytes that fits an Int.
    private mutating func integer(bytes count: Int) throws(PickleError) -> Int {
        let value = try signedInteger(bytes: count, signed: false)
        guard value >= 0 else { throw .malformed("a length does not fit") }
        return value
    }

    /// A little-endian two's-complement integer of `count` bytes (LONG1/LONG4 may use more than 8 for a value
    /// that fits).
    private mutating func signedInteger(bytes count: Int, signed: Bool = true) throws(PickleError) -> Int {
        guard count >= 0 else { throw .malformed("negative length \(count)") }
        let raw = try read(count)
        guard count > 0 else { return 0 }
        let negative = signed && raw[count - 1] & 0x80 != 0
        let filler: UInt8 = negative ? 0xFF : 0x00
        if count > 8 {
            guard raw[8...].allSatisfy({ $0 == filler }) else { throw .unsupported("an integer wider than 64 bits") }
        }
        var value: UInt64 = negative ? UInt64.max : 0
        for index in (0..<min(count, 8)).reversed() { value = value << 8 | UInt64(raw[index]) }
        if count < 8 && negative { value |= UInt64.max << (8 * count) }
        let result = Int(bitPattern: UInt(value))
        if !signed && count >= 8 && raw[7] & 0x80 != 0 { throw .unsupported("an unsigned value beyond Int.max") }
        guard (result < 0) == negative else { throw .unsupported("an integer wider than 64 bits") }
        return result
    }

    private mutating func text(length: Int) throws(PickleError) -> String {
        String(decoding: try read(length), as: UTF8.self)
    }

    /// A newline-terminated ASCII line (GLOBAL's module and name).
    private mutating func line() throws(PickleError) -> String {
        var characters: [UInt8] = []
        while true {
            let next = try byte()
            if next == 0x0a { break }
            characters.append(next)
            guard characters.count <= 1024 else { throw .malformed("a global's name runs past 1,024 bytes") }
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
