import Foundation
import GRDB

/// The SQLite file of one index generation: every image's metadata and its embedding, the images that could not be
/// read, and the collection's settings (root folder, model).
///
/// The embeddings are kept here as well as in the vector index because they are the source of truth: an index kind
/// that cannot remove vectors, or a switch of kind, is rebuilt from them without embedding any image again.
public final class Catalog: @unchecked Sendable {
    public let path: String
    private let database: DatabaseQueue

    /// The settings a catalog records about its collection.
    public enum Setting: String, Sendable {
        case root
        case modelIdentity = "model_identity"
        case dimension
    }

    /// Opens (and creates or migrates) the catalog at `path`.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = readOnly
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            if !readOnly { try Self.migrator.migrate(database) }
        } catch {
            throw SearchError.database(path: path, message: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("images, failures, settings") { db in
            try db.create(table: "image") { table in
                table.primaryKey("id", .integer)
                table.column("path", .text).notNull().unique()
                table.column("size", .integer).notNull()
                table.column("modified", .double).notNull()
                table.column("content_hash", .text).notNull()
                table.column("caption", .text)
                table.column("vector", .blob).notNull()
            }
            try db.create(table: "failure") { table in
                table.primaryKey("path", .text)
                table.column("reason", .text).notNull()
            }
            try db.create(table: "setting") { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        return migrator
    }

    // MARK: Reading

    /// Every entry, by id (without vectors).
    public func entries() throws -> [CatalogEntry] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT id, path, size, modified, content_hash, caption FROM image ORDER BY id")
                .map(Self.entry(from:))
        }
    }

    /// All vectors in id order, row-major, with their ids.
    public func vectors(dimension: Int) throws -> (ids: [Int64], values: [Float]) {
        try reading { db in
            var ids: [Int64] = []
            var values: [Float] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT id, vector FROM image ORDER BY id")
            while let row = try rows.next() {
                let blob: Data = row["vector"]
                let vector = Self.vector(from: blob)
                guard vector.count == dimension else {
                    throw SearchError.database(
                        path: path, message: "image \(row["id"] as Int64) has a \(vector.count)-d vector, expected \(dimension)")
                }
                ids.append(row["id"])
                values.append(contentsOf: vector)
            }
            return (ids, values)
        }
    }

    public func failures() throws -> [UnreadableImage] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT path, reason FROM failure ORDER BY path").map {
                UnreadableImage(path: $0["path"], reason: $0["reason"])
            }
        }
    }

    public func setting(_ key: Setting) throws -> String? {
        try reading { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key.rawValue]) }
    }

    /// The next unused id.
    public func nextID() throws -> Int64 {
        try reading { db in (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM image") ?? 0) + 1 }
    }

    // MARK: Writing

    public func set(_ key: Setting, to value: String) throws {
        try writing { db in
            try db.execute(
                sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key.rawValue, value])
        }
    }

    /// Inserts or replaces entries with their vectors, in one transaction.
    public func upsert(_ entries: [(entry: CatalogEntry, vector: [Float])]) throws {
        try writing { db in
            for (entry, vector) in entries {
                try db.execute(
                    sql: """
                        INSERT INTO image (id, path, size, modified, content_hash, caption, vector) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET path = excluded.path, size = excluded.size, modified = excluded.modified,
                        content_hash = excluded.content_hash, caption = excluded.caption, vector = excluded.vector
                        """,
                    arguments: [
                        entry.id, entry.path, entry.size, entry.modified, entry.contentHash, entry.caption,
                        Self.blob(from: vector),
                    ])
            }
        }
    }

    /// Records a new size and modification time for files whose content did not change.
    public func updateFileTimes(_ entries: [CatalogEntry]) throws {
        try writing { db in
            for entry in entries {
                try db.execute(
                    sql: "UPDATE image SET size = ?, modified = ?, caption = ? WHERE id = ?",
                    arguments: [entry.size, entry.modified, entry.caption, entry.id])
            }
        }
    }

    public func remove(ids: [Int64]) throws {
        try writing { db in
            for id in ids { try db.execute(sql: "DELETE FROM image WHERE id = ?", arguments: [id]) }
        }
    }

    public func replaceFailures(_ failures: [UnreadableImage]) throws {
        try writing { db in
            try db.execute(sql: "DELETE FROM failure")
            for failure in failures {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO failure (path, reason) VALUES (?, ?)", arguments: [failure.path, failure.reason])
            }
        }
    }

    /// A consistent copy of the whole catalog at `destination` (SQLite's `VACUUM INTO`), safe while others read.
    public func copy(to destination: String) throws {
        do {
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
            }
        } catch {
            throw SearchError.database(path: path, message: "copying to \(destination): \(error)")
        }
    }

    // MARK: Encoding

    /// Vectors are stored as little-endian float32 bytes.
    static func blob(from vector: [Float]) -> Data {
        vector.withUnsafeBytes { Data($0) }
    }

    static func vector(from blob: Data) -> [Float] {
        let count = blob.count / MemoryLayout<Float>.size
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = blob.copyBytes(to: buffer)
            initialized = count
        }
    }

    private static func entry(from row: Row) -> CatalogEntry {
        CatalogEntry(
            id: row["id"], path: row["path"], size: row["size"], modified: row["modified"],
            contentHash: row["content_hash"], caption: row["caption"])
    }

    private func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError.database(path: path, message: "\(error)")
        }
    }

    private func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError.database(path: path, message: "\(error)")
        }
    }
}
