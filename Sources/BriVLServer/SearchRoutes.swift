import BriVLEvaluation
import BriVLSearch
import Foundation
import Hummingbird
import Imaging

/// The handlers behind the API routes: read and validate the request, embed through the batcher, search the index.
/// Every refusal is an ``APIError`` with a 4xx status.
struct SearchRoutes: Sendable {
    let service: SearchService
    var limits: ServerLimits { service.limits }

    // MARK: Embedding

    func embedText(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        let texts: [String]
        if mediaType(request) == "application/json" {
            let decoded = try decode(EmbedTextRequest.self, from: body)
            texts = decoded.texts ?? decoded.text.map { [$0] } ?? []
        } else if mediaType(request) == "text/plain" {
            guard let text = String(data: body, encoding: .utf8) else { throw APIError.badRequest("the body is not valid UTF-8") }
            texts = [text]
        } else {
            throw unsupportedType(request, expected: "application/json or text/plain")
        }
        guard !texts.isEmpty else { throw APIError.badRequest("give `text` or a non-empty `texts` list") }
        guard texts.count <= limits.maxItems else {
            throw APIError.badRequest("at most \(limits.maxItems) texts per request, got \(texts.count)")
        }
        for text in texts { try check(text: text) }
        var embeddings: [[Float]] = []
        for text in texts { embeddings.append(try await service.batcher.embed(text: text)) }
        return try json(EmbeddingsResponse(dimension: service.index.manifest.dimension, embeddings: embeddings))
    }

    func embedImage(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        let images: [Data]
        if let boundary = multipartBoundary(request) {
            images = try MultipartForm(body: body, boundary: boundary).parts.filter { $0.filename != nil }.map(\.data)
        } else if isRawImage(request) {
            images = [body]
        } else {
            throw unsupportedType(request, expected: "image/*, application/octet-stream or multipart/form-data")
        }
        guard !images.isEmpty else { throw APIError.badRequest("no image in the request") }
        guard images.count <= limits.maxItems else {
            throw APIError.badRequest("at most \(limits.maxItems) images per request, got \(images.count)")
        }
        // The request's images together, from their headers, before any is decoded: many small files that each
        // decode to the per-image limit would otherwise hold the model thread for seconds.
        let total = try images.reduce(0) { $0 + (try pixelCount(of: $1)) }
        guard total <= limits.maxRequestPixels else {
            throw APIError(
                .contentTooLarge,
                "the images decode to \(total) pixels together, the limit per request is \(limits.maxRequestPixels)")
        }
        var embeddings: [[Float]] = []
        for image in images { embeddings.append(try await embed(image: image)) }
        return try json(EmbeddingsResponse(dimension: service.index.manifest.dimension, embeddings: embeddings))
    }

    // MARK: Search

    func search(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        let body = try await collect(request)
        var text: String?
        var image: Data?
        var vector: [Float]?
        var k = 10
        var filter = SearchFilter()
        let parameters = request.uri.queryParameters
        if let value = parameters.get("k") { k = try parseK(value) }
        if let prefix = parameters.get("path_prefix") { filter.pathPrefix = prefix }
        if mediaType(request) == "application/json" {
            let decoded = try decode(SearchRequest.self, from: body)
            text = decoded.text
            image = try decoded.image.map(decodeBase64)
            vector = decoded.vector
            if let value = decoded.k { k = value }
            if let value = decoded.filter { filter = value }
        } else if let boundary = multipartBoundary(request) {
            let form = try MultipartForm(body: body, boundary: boundary)
            text = form.field("text")
            image = form.file("image")?.data
            if let value = form.field("k") { k = try parseK(value) }
            if let value = form.field("path_prefix") { filter.pathPrefix = value }
        } else if isRawImage(request) {
            image = body
        } else {
            throw unsupportedType(request, expected: "application/json, multipart/form-data or image/*")
        }
        guard (1...limits.maxK).contains(k) else { throw APIError.badRequest("k must be in 1...\(limits.maxK), got \(k)") }
        let query: [Float]
        let kind: String
        switch (text, image, vector) {
        case (let text?, nil, nil):
            try check(text: text)
            query = try await service.batcher.embed(text: text)
            kind = "text"
        case (nil, let image?, nil):
            query = try await embed(image: image)
            kind = "image"
        case (nil, nil, let vector?):
            let dimension = service.index.manifest.dimension
            guard vector.count == dimension, vector.allSatisfy(\.isFinite) else {
                throw APIError.badRequest("`vector` must be \(dimension) finite numbers")
            }
            query = vector
            kind = "vector"
        default:
            throw APIError.badRequest("give exactly one of `text`, `image` and `vector`")
        }
        let hits = try service.index.search(vector: query, k: k, filter: filter)
        let elapsed = ContinuousClock.now - start
        return try json(
            SearchResponse(
                query: kind, k: k,
                results: hits.map {
                    SearchResult(id: $0.id, path: $0.path, score: $0.score, caption: $0.caption, thumbnail: Self.thumbnailURL($0.path))
                },
                tookMilliseconds: Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3))
    }

    /// Zero-shot classification of one image among the given labels (each filled into the image prompt templates).
    func classify(_ request: Request) async throws -> Response {
        let body = try await collect(request)
        let image: Data
        let labels: [String]
        if mediaType(request) == "application/json" {
            let decoded = try decode(ClassifyRequest.self, from: body)
            image = try decodeBase64(decoded.image)
            labels = decoded.labels
        } else if let boundary = multipartBoundary(request) {
            let form = try MultipartForm(body: body, boundary: boundary)
            guard let file = form.file("image") else { throw APIError.badRequest("the form has no `image` part") }
            image = file.data
            labels = (form.field("labels") ?? "").split(whereSeparator: \.isNewline).map(String.init)
        } else {
            throw unsupportedType(request, expected: "application/json or multipart/form-data")
        }
        let cleaned = labels.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty, cleaned.count <= limits.maxItems else {
            throw APIError.badRequest("give 1...\(limits.maxItems) labels")
        }
        guard Set(cleaned).count == cleaned.count else { throw APIError.badRequest("labels repeat") }
        for label in cleaned { try check(text: label) }
        let vector = try await embed(image: image)
        let prompts = try ClassPrompts.filling(labels: cleaned, names: cleaned.map { [$0] }, templates: .images)
        let embedder = service.batcher.embedder
        let classVectors = try await service.batcher.run { try embedder.embedClasses(prompts: prompts.prompts) }
        let cosines = try ClassScoring.scores(of: vector, classVectors: classVectors)
        let scores = zip(cleaned, cosines).map { ClassScore(label: $0, score: $1) }
        return try json(ClassifyResponse(labels: scores.sorted { $0.score > $1.score }))
    }

    // MARK: Thumbnails

    /// A JPEG no larger than the thumbnail size of an indexed image. Only paths in the catalog are served.
    func thumbnail(_ request: Request) async throws -> Response {
        guard let path = request.uri.queryParameters.get("path"), !path.isEmpty else {
            throw APIError.badRequest("give the image's `path`")
        }
        guard let file = service.index.file(forPath: path) else { throw APIError(.notFound, "no indexed image at that path") }
        let size = limits.thumbnailSize
        let maxPixels = limits.maxImagePixels
        let thumbnail = await Task.detached {
            Result {
                let image = try ImageDecoder.decode(contentsOf: file, options: DecodeOptions(maxPixels: maxPixels))
                let scaled = Swift.max(image.width, image.height) > size
                    ? try image.resized(to: image.size.scaledToLongerSide(size)) : image
                return try ImageEncoder.jpeg(scaled, quality: 85)
            }
        }.value
        // The file changed or went away since it was indexed.
        guard case .success(let data) = thumbnail else {
            throw APIError(.notFound, "the indexed image can no longer be read")
        }
        return Response(
            status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func thumbnailURL(_ path: String) -> String {
        var components = URLComponents()
        components.path = "/v1/thumbnail"
        components.queryItems = [URLQueryItem(name: "path", value: path)]
        return components.string ?? "/v1/thumbnail"
    }

    // MARK: Reading requests

    private func collect(_ request: Request) async throws -> Data {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.maxBodyBytes {
            throw APIError(.contentTooLarge, "the body has \(length) bytes, the limit is \(limits.maxBodyBytes)")
        }
        do {
            return Data(try await request.collectBody(upTo: limits.maxBodyBytes).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "the body is larger than \(limits.maxBodyBytes) bytes")
        } catch {
            throw APIError.badRequest("the request body could not be read")
        }
    }

    private func mediaType(_ request: Request) -> String {
        (request.headers[.contentType] ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
    }

    private func multipartBoundary(_ request: Request) -> String? {
        guard mediaType(request) == "multipart/form-data" else { return nil }
        return MultipartForm.boundary(of: request.headers[.contentType] ?? "")
    }

    private func isRawImage(_ request: Request) -> Bool {
        let type = mediaType(request)
        return type.hasPrefix("image/") || type == "application/octet-stream"
    }

    private func unsupportedType(_ request: Request, expected: String) -> APIError {
        if mediaType(request) == "multipart/form-data" {
            return APIError.badRequest("the multipart content type has no valid boundary")
        }
        let given = request.headers[.contentType] ?? "none"
        return APIError(.unsupportedMediaType, "content type \(given) is not accepted here; send \(expected)")
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid JSON: \(Self.describe(error))")
        } catch {
            throw APIError.badRequest("invalid JSON")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): context.debugDescription
        case .keyNotFound(let key, _): "missing `\(key.stringValue)`"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "wrong type at `\(context.codingPath.map(\.stringValue).joined(separator: "."))`"
        @unknown default: "\(error)"
        }
    }

    private func decodeBase64(_ text: String) throws -> Data {
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw APIError.badRequest("`image` must be base64-encoded image bytes")
        }
        return data
    }

    private func parseK(_ value: String) throws -> Int {
        guard let k = Int(value.trimmingCharacters(in: .whitespaces)) else { throw APIError.badRequest("k must be an integer") }
        return k
    }

    private func check(text: String) throws {
        // Bytes first: they cost nothing to count, and bound the grapheme count that follows.
        guard text.utf8.count <= limits.maxTextBytes else {
            throw APIError(.contentTooLarge, "the text has \(text.utf8.count) bytes, the limit is \(limits.maxTextBytes)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIError.badRequest("the text is empty") }
        guard text.count <= limits.maxTextLength else {
            throw APIError(.contentTooLarge, "the text has \(text.count) characters, the limit is \(limits.maxTextLength)")
        }
    }

    /// Embeds one uploaded image after checking its header: not an image, or too many pixels, is refused before
    /// the batcher sees it.
    private func pixelCount(of image: Data) throws -> Int {
        let info: ImageInfo
        do {
            info = try ImageDecoder.probe(data: image)
        } catch {
            throw APIError.badRequest("not a readable JPEG, PNG or WebP image")
        }
        return info.storedSize.width * info.storedSize.height
    }

    private func embed(image: Data) async throws -> [Float] {
        let pixels = try pixelCount(of: image)
        guard pixels <= limits.maxImagePixels else {
            throw APIError(.contentTooLarge, "the image has \(pixels) pixels, the limit is \(limits.maxImagePixels)")
        }
        switch try await service.batcher.embed(image: image) {
        case .vector(let vector): return vector
        case .unreadable(let reason): throw APIError(.unprocessableContent, "the image cannot be decoded: \(reason)")
        }
    }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
