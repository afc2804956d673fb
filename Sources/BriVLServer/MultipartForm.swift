import Foundation

/// A `multipart/form-data` body (RFC 7578), parsed strictly: a part without its closing boundary, or a body that
/// ends early, is an error rather than a shorter upload.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: Data
    }

    var parts: [Part]

    func field(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.flatMap { String(data: $0.data, encoding: .utf8) }
    }

    func file(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// The boundary parameter of a `multipart/form-data` content type.
    static func boundary(of contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 70 ? nil : value
            }
        }
        return nil
    }

    init(body: Data, boundary: String) throws {
        let delimiter = Data("--\(boundary)".utf8)
        let separator = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else {
            throw APIError.badRequest("malformed multipart body: no opening boundary")
        }
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" closes the body, CRLF starts a part.
            guard body.count >= cursor + 2 else { throw APIError.badRequest("malformed multipart body: truncated") }
            let marker = body[cursor..<cursor + 2]
            if marker == Data("--".utf8) { break }
            guard marker == Data("\r\n".utf8) else { throw APIError.badRequest("malformed multipart body: bad boundary line") }
            cursor += 2
            guard let headerEnd = body.range(of: separator, in: cursor..<body.endIndex) else {
                throw APIError.badRequest("malformed multipart body: truncated part headers")
            }
            guard let headerText = String(data: body[cursor..<headerEnd.lowerBound], encoding: .utf8) else {
                throw APIError.badRequest("malformed multipart body: part headers are not UTF-8")
            }
            let closing = Data("\r\n--\(boundary)".utf8)
            guard let end = body.range(of: closing, in: headerEnd.upperBound..<body.endIndex) else {
                throw APIError.badRequest("malformed multipart body: truncated (a part has no closing boundary)")
            }
            parts.append(try Self.part(headers: headerText, data: body[headerEnd.upperBound..<end.lowerBound]))
            cursor = end.upperBound
        }
        guard !parts.isEmpty else { throw APIError.badRequest("malformed multipart body: no parts") }
        self.parts = parts
    }

    private static func part(headers: String, data: Data) throws -> Part {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in headers.components(separatedBy: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "content-disposition":
                for parameter in pair[1].split(separator: ";").dropFirst() {
                    let keyValue = parameter.split(separator: "=", maxSplits: 1).map {
                        $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    }
                    guard keyValue.count == 2 else { continue }
                    if keyValue[0] == "name" { name = keyValue[1] }
                    if keyValue[0] == "filename" { filename = keyValue[1] }
                }
            case "content-type": contentType = pair[1]
            default: continue
            }
        }
        guard let name else { throw APIError.badRequest("malformed multipart body: a part has no name") }
        return Part(name: name, filename: filename, contentType: contentType, data: Data(data))
    }
}
