import Foundation

/// The first phase of a build: what the folder holds against the live catalog, before anything is written.
///
/// Files with the live catalog's size and modification time are unchanged. Others are hashed: the same content
/// only moves their times (touched); different content is embedded again (changed). New files are embedded, files
/// that disappeared are removed.
struct IndexPlan {
    /// Files to embed, with their catalog id when they replace an entry.
    var toEmbed: [(file: ScannedFile, id: Int64?)] = []
    /// Entries whose times moved but whose content did not, with their new times and caption.
    var touched: [CatalogEntry] = []
    var unchanged = 0
    var removedIDs: [Int64] = []
    /// Entries of the live catalog compared against.
    let knownCount: Int
    /// Catalog ids of files whose content changed.
    var changedIDs: [Int64] { toEmbed.compactMap(\.id) }

    /// Nothing to embed, touch or remove.
    var isEmpty: Bool { toEmbed.isEmpty && touched.isEmpty && removedIDs.isEmpty }

    /// Compares the scanned files of `root` with the catalog's entries (none for a first or a full build).
    init(scanned: [ScannedFile], root: String, known entries: [CatalogEntry]) {
        let known = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
        knownCount = known.count
        for file in scanned {
            guard let entry = known[file.path] else {
                toEmbed.append((file, nil))
                continue
            }
            if entry.size == file.size && entry.modified == file.modified {
                unchanged += 1
                continue
            }
            let absolute = (root as NSString).appendingPathComponent(file.path)
            if let data = try? Data(contentsOf: URL(fileURLWithPath: absolute)), ContentHash.of(data) == entry.contentHash {
                var updated = entry
                updated.size = file.size
                updated.modified = file.modified
                updated.caption = PhotoFolder.caption(forImageAt: absolute)
                touched.append(updated)
            } else {
                toEmbed.append((file, entry.id))
            }
        }
        let present = Set(scanned.map(\.path))
        removedIDs = entries.filter { !present.contains($0.path) }.map(\.id)
    }
}

/// The second phase: the planned files read, embedded batch by batch and written into the new generation's catalog.
struct EmbeddedImages {
    var addedIDs: [Int64] = []
    /// The vectors of ``addedIDs``, one after the other.
    var addedVectors: [Float] = []
    var unreadable: [UnreadableImage] = []
    /// Changed files that could no longer be read: they leave the index rather than keep a stale vector.
    var failedChangedIDs: [Int64] = []

    /// Embeds `plan.toEmbed` into `catalog`; unreadable files are counted and listed, never fatal.
    init(
        _ plan: IndexPlan, root: String, embedder: any SearchEmbedder, batchSize: Int, catalog: Catalog,
        progress: (IndexingProgress) -> Void
    ) throws {
        let toEmbed = plan.toEmbed
        var nextID = try catalog.nextID()
        var done = 0
        progress(IndexingProgress(embedded: 0, toEmbed: toEmbed.count, unreadable: 0))
        for start in stride(from: 0, to: toEmbed.count, by: batchSize) {
            let batch = toEmbed[start..<Swift.min(start + batchSize, toEmbed.count)]
            var readable: [(file: ScannedFile, id: Int64?, data: Data)] = []
            for item in batch {
                let absolute = (root as NSString).appendingPathComponent(item.file.path)
                do {
                    readable.append((item.file, item.id, try Data(contentsOf: URL(fileURLWithPath: absolute))))
                } catch {
                    fail(item.file, id: item.id, reason: error.localizedDescription)
                }
            }
            let results = readable.isEmpty ? [] : try embedder.embedImages(readable.map(\.data))
            var rows: [(entry: CatalogEntry, vector: [Float])] = []
            for (item, result) in zip(readable, results) {
                switch result {
                case .unreadable(let reason):
                    fail(item.file, id: item.id, reason: reason)
                case .vector(let vector):
                    let id = item.id ?? nextID
                    if item.id == nil { nextID += 1 }
                    let absolute = (root as NSString).appendingPathComponent(item.file.path)
                    rows.append(
                        (CatalogEntry(
                            id: id, path: item.file.path, size: item.file.size, modified: item.file.modified,
                            contentHash: ContentHash.of(item.data), caption: PhotoFolder.caption(forImageAt: absolute)),
                         vector))
                    addedIDs.append(id)
                    addedVectors.append(contentsOf: vector)
                }
            }
            try catalog.upsert(rows)
            done += batch.count
            progress(IndexingProgress(embedded: done, toEmbed: toEmbed.count, unreadable: unreadable.count))
        }
        try catalog.remove(ids: failedChangedIDs)
        try catalog.replaceFailures(unreadable)
    }

    private mutating func fail(_ file: ScannedFile, id: Int64?, reason: String) {
        unreadable.append(UnreadableImage(path: file.path, reason: reason))
        if let id { failedChangedIDs.append(id) }
    }
}
