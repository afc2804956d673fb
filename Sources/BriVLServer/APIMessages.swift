import BriVLSearch
import Foundation

/// `POST /v1/embed/text`: `{"texts": ["…"]}` or `{"text": "…"}`.
struct EmbedTextRequest: Decodable {
    var text: String?
    var texts: [String]?
}

/// Answer of both embedding routes: one L2-normalised vector per input.
struct EmbeddingsResponse: Encodable {
    var dimension: Int
    var embeddings: [[Float]]
}

/// `POST /v1/search` as JSON: exactly one of `text`, `image` (base64) and `vector` (an embedding, as a front end
/// that scatters one query over shards sends it).
struct SearchRequest: Decodable {
    var text: String?
    var image: String?
    var vector: [Float]?
    var k: Int?
    var filter: SearchFilter?
}

struct SearchResult: Encodable {
    var id: Int64
    var path: String
    var score: Float
    var caption: String?
    /// Relative URL of the thumbnail.
    var thumbnail: String
}

struct SearchResponse: Encodable {
    var query: String
    var k: Int
    var results: [SearchResult]
    var tookMilliseconds: Double

    enum CodingKeys: String, CodingKey {
        case query, k, results
        case tookMilliseconds = "took_ms"
    }
}

/// `POST /v1/classify` as JSON: an image (base64) and the candidate labels, each filled into the prompt templates.
struct ClassifyRequest: Decodable {
    var image: String
    var labels: [String]
}

struct ClassScore: Encodable {
    var label: String
    var score: Float
}

struct ClassifyResponse: Encodable {
    var labels: [ClassScore]
}

struct HealthResponse: Encodable {
    var status: String
    var images: Int
    var generation: Int
}
