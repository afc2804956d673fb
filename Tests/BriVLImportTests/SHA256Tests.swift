import ContentHashing
import Foundation
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    @Test("the FIPS 180-4 examples: empty, abc, the 448-bit message and a million a's")
    func knownDigests() {
        #expect(SHA256.hexDigest(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hexDigest(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("fed in pieces of any size, the digest is the one of the whole; a file's digest is its bytes'")
    func pieces() throws {
        let bytes = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let whole = SHA256.hexDigest(of: bytes)
        for piece in [1, 3, 55, 56, 63, 64, 65, 1000] {
            var hash = SHA256()
            var start = 0
            while start < bytes.count {
                let end = min(start + piece, bytes.count)
                hash.update(bytes[start..<end])
                start = end
            }
            #expect(hash.finalize() == whole, "pieces of \(piece)")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SHA256.hexDigest(ofFile: path) == whole)
    }
}
