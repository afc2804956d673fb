import Foundation

/// How an index is built.
public struct IndexingOptions: Sendable {
    /// nil: ``IndexKind/automatic(count:)``.
    public var kind: IndexKind?
    public var tuning = IndexKind.Tuning()
    /// Images read and embedded together.
    public var batchSize = 32
    /// Published generations kept on disk (at least 1); older ones are deleted after a build.
    public var keptGenerations = 2

    public init(kind: IndexKind? = nil, batchSize: Int = 32) {
        self.kind = kind
        self.batchSize = Swift.max(1, batchSize)
    }
}

/// Where a build is, for a progress bar.
public struct IndexingProgress: Sendable {
    /// Images embedded (or found unreadable) so far, of `toEmbed`.
    public var embedded: Int
    public var toEmbed: Int
    public var unreadable: Int
}

/// What one build did.
public struct IndexingReport: Sendable, Codable, Equatable {
    public var generation: Int
    public var kind: IndexKind
    /// Images in the index after the build.
    public var total: Int
    public var added: Int
    /// Files whose content changed and were embedded again.
    public var changed: Int
    /// Files whose modification time moved but whose content did not: only their metadata was updated.
    public var touched: Int
    public var unchanged: Int
    public var removed: Int
    /// Images embedded in this build (added + changed, minus unreadable).
    public var embedded: Int
    public var unreadable: [UnreadableImage]
    /// Whether the vector index was rebuilt from the catalog rather than updated in place.
    public var rebuilt: Bool
}

/// Builds and incrementally updates the index of a photo folder.
///
/// Each run compares the folder with the live generation's catalog: files with the same size and modification time
/// are unchanged and keep their vectors; others are hashed, and only those whose content differs are embedded again.
/// New files are embedded, files that disappeared are removed. All of it is written into a new generation, which
/// is published at the end (see ``IndexDirectory``): a crash leaves the previous index live.
public final class CollectionIndexer {
    public let directory: IndexDirectory
    public let embedder: any SearchEmbedder
    public var options: IndexingOptions
    /// Makes and opens the generations' vector stores.
    public let stores: any VectorStoreFactory

    public init(
        directory: IndexDirectory, embedder: any SearchEmbedder, options: IndexingOptions = .init(),
        stores: any VectorStoreFactory = FaissStoreFactory()
    ) {
        self.directory = directory
        self.embedder = embedder
        self.options = options
        self.stores = stores
    }

    /// Brings the index up to date with the images under `root`.
    public func update(root: String, progress: (IndexingProgress) -> Void = { _ in }) throws -> IndexingReport {
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
        let scanned = try PhotoFolder.scan(rootPath)
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        // Leftovers of a crashed build go first, so generation numbers stay increasing and disk use bounded.
        try directory.removeStaleGenerations(keep: options.keptGenerations)

        let previous = try directory.current()
        let previousManifest = try previous?.readManifest()
        let reusable = previousManifest.map { $0.modelIdentity == embedder.identity && $0.root == rootPath } ?? false
        let previousCatalog = try previous.flatMap { reusable ? try Catalog(path: $0.catalogPath, readOnly: true) : nil }

        // Compare the folder with the live catalog.
        let known = Dictionary(uniqueKeysWithValues: try (previousCatalog?.entries() ?? []).map { ($0.path, $0) })
        var toEmbed: [(file: ScannedFile, id: Int64?)] = []
        var touched: [CatalogEntry] = []
        var unchanged = 0
        for file in scanned {
            guard let entry = known[file.path] else {
                toEmbed.append((file, nil))
                continue
            }
            if entry.size == file.size && entry.modified == file.modified {
                unchanged += 1
                continue
            }
            let absolute = (rootPath as NSString).appendingPathComponent(file.path)
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
        let removedIDs = known.values.filter { !present.contains($0.path) }.map(\.id)
        let changedIDs = toEmbed.compactMap(\.id)
        let previousFailures = try previousCatalog?.failures() ?? []

        // Nothing to do: the live generation stays (no new files, no rebuild, nothing for readers to reload).
        if let previous, let previousManifest, reusable, toEmbed.isEmpty, touched.isEmpty, removedIDs.isEmpty,
            (options.kind ?? IndexKind.automatic(count: known.count)) == previousManifest.kind
        {
            return IndexingReport(
                generation: previous.number, kind: previousManifest.kind, total: known.count, added: 0, changed: 0,
                touched: 0, unchanged: unchanged, removed: 0, embedded: 0, unreadable: previousFailures, rebuilt: false)
        }

        let generation = try directory.makeGeneration()
        if let previousCatalog { try previousCatalog.copy(to: generation.catalogPath) }
        let catalog = try Catalog(path: generation.catalogPath)
        try catalog.set(.root, to: rootPath)
        try catalog.set(.modelIdentity, to: embedder.identity)
        try catalog.set(.dimension, to: String(embedder.dimension))
        try catalog.updateFileTimes(touched)
        try catalog.remove(ids: removedIDs)

        // Embed what is new or changed, batch by batch.
        var nextID = try catalog.nextID()
        var unreadable: [UnreadableImage] = []
        var addedIDs: [Int64] = []
        var addedVectors: [Float] = []
        var failedChangedIDs: [Int64] = []
        var done = 0
        progress(IndexingProgress(embedded: 0, toEmbed: toEmbed.count, unreadable: 0))
        for start in stride(from: 0, to: toEmbed.count, by: options.batchSize) {
            let batch = toEmbed[start..<Swift.min(start + options.batchSize, toEmbed.count)]
            var readable: [(file: ScannedFile, id: Int64?, data: Data)] = []
            for item in batch {
                let absolute = (rootPath as NSString).appendingPathComponent(item.file.path)
                do {
                    readable.append((item.file, item.id, try Data(contentsOf: URL(fileURLWithPath: absolute))))
                } catch {
                    unreadable.append(UnreadableImage(path: item.file.path, reason: error.localizedDescription))
                    if let id = item.id { failedChangedIDs.append(id) }
                }
            }
            let results = readable.isEmpty ? [] : try embedder.embedImages(readable.map(\.data))
            var rows: [(entry: CatalogEntry, vector: [Float])] = []
            for (item, result) in zip(readable, results) {
                switch result {
                case .unreadable(let reason):
                    unreadable.append(UnreadableImage(path: item.file.path, reason: reason))
                    if let id = item.id { failedChangedIDs.append(id) }
                case .vector(let vector):
                    let id = item.id ?? nextID
                    if item.id == nil { nextID += 1 }
                    let absolute = (rootPath as NSString).appendingPathComponent(item.file.path)
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
        // A changed file that can no longer be read leaves the index rather than keep a stale vector.
        try catalog.remove(ids: failedChangedIDs)
        try catalog.replaceFailures(unreadable)

        // The vector index: updated in place when the previous one can be, else rebuilt from the catalog's vectors.
        let total = try catalog.entries().count
        let kind = options.kind ?? IndexKind.automatic(count: total)
        let staleIDs = removedIDs + changedIDs
        var store: (any PersistentVectorStore)? = nil
        if let previous, let previousManifest, reusable, previousManifest.kind == kind,
            let loaded = try? stores.openStore(at: previous.vectorsPath, kind: kind, tuning: options.tuning),
            staleIDs.isEmpty || loaded.supportsRemoval
        {
            try loaded.remove(ids: staleIDs)
            try loaded.add(addedVectors, ids: addedIDs)
            store = loaded
        }
        let rebuilt = store == nil
        if store == nil { store = try build(kind: kind, from: catalog, dimension: embedder.dimension, tuning: options.tuning) }
        guard let store, store.count == total else {
            throw SearchError.index(
                path: generation.path, message: "the vector index holds \(store?.count ?? 0) vectors, the catalog \(total)")
        }
        try store.write(to: generation.vectorsPath)
        try generation.writeManifest(
            IndexManifest(
                generation: generation.number, kind: kind, tuning: options.tuning, count: total,
                dimension: embedder.dimension, root: rootPath, modelIdentity: embedder.identity, created: Date()))
        try directory.publish(generation)
        try directory.removeStaleGenerations(keep: options.keptGenerations)

        let changedCount = changedIDs.count - Set(failedChangedIDs).count
        return IndexingReport(
            generation: generation.number, kind: kind, total: total,
            added: addedIDs.count - changedCount, changed: changedCount, touched: touched.count, unchanged: unchanged,
            removed: removedIDs.count + Set(failedChangedIDs).count, embedded: addedIDs.count, unreadable: unreadable,
            rebuilt: rebuilt)
    }

    /// A fresh index of `kind` over every vector of the catalog (IVF trains on them first).
    func build(kind: IndexKind, from catalog: Catalog, dimension: Int, tuning: IndexKind.Tuning) throws
        -> any PersistentVectorStore
    {
        let (ids, values) = try catalog.vectors(dimension: dimension)
        let store = try stores.makeStore(kind: kind, dimension: dimension, expectedCount: ids.count, tuning: tuning)
        if !ids.isEmpty { try store.train(values) }
        try store.add(values, ids: ids)
        return store
    }
}
