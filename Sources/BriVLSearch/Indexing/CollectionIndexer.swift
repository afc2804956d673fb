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

    /// Brings the index up to date with the images under `root`: plan (``IndexPlan``), embed into a new generation
    /// (``EmbeddedImages``), update or rebuild the vector index, publish.
    public func update(root: String, progress: (IndexingProgress) -> Void = { _ in }) throws -> IndexingReport {
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        return try directory.withWriteLock { try build(root: root, progress: progress) }
    }

    private func build(root: String, progress: (IndexingProgress) -> Void) throws -> IndexingReport {
        let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
        let scanned = try PhotoFolder.scan(rootPath)
        // Leftovers of a crashed build go first, so generation numbers stay increasing and disk use bounded.
        try directory.removeStaleGenerations(keep: options.keptGenerations)

        let previous = try directory.current()
        let previousManifest = try previous?.readManifest()
        let reusable = previousManifest.map { $0.modelIdentity == embedder.identity && $0.root == rootPath } ?? false
        let previousCatalog = try previous.flatMap { reusable ? try Catalog(path: $0.catalogPath, readOnly: true) : nil }

        let plan = IndexPlan(scanned: scanned, root: rootPath, known: try previousCatalog?.entries() ?? [])

        // Nothing to do: the live generation stays (no new files, no rebuild, nothing for readers to reload).
        if let previous, let previousManifest, reusable, plan.isEmpty,
            (options.kind ?? IndexKind.automatic(count: plan.knownCount)) == previousManifest.kind
        {
            return IndexingReport(
                generation: previous.number, kind: previousManifest.kind, total: plan.knownCount, added: 0, changed: 0,
                touched: 0, unchanged: plan.unchanged, removed: 0, embedded: 0,
                unreadable: try previousCatalog?.failures() ?? [], rebuilt: false)
        }

        let generation = try directory.makeGeneration()
        if let previousCatalog { try previousCatalog.copy(to: generation.catalogPath) }
        let catalog = try Catalog(path: generation.catalogPath)
        try catalog.set(.root, to: rootPath)
        try catalog.set(.modelIdentity, to: embedder.identity)
        try catalog.set(.dimension, to: String(embedder.dimension))
        try catalog.updateFileTimes(plan.touched)
        try catalog.remove(ids: plan.removedIDs)
        let embedded = try EmbeddedImages(
            plan, root: rootPath, embedder: embedder, batchSize: options.batchSize, catalog: catalog, progress: progress)

        // The vector index: updated in place when the previous one can be, else rebuilt from the catalog's vectors.
        let total = try catalog.entries().count
        let kind = options.kind ?? IndexKind.automatic(count: total)
        let staleIDs = plan.removedIDs + plan.changedIDs
        var store: (any PersistentVectorStore)? = nil
        if let previous, let previousManifest, reusable, previousManifest.kind == kind,
            let loaded = try? stores.openStore(at: previous.vectorsPath, kind: kind, tuning: options.tuning),
            staleIDs.isEmpty || loaded.supportsRemoval
        {
            try loaded.remove(ids: staleIDs)
            try loaded.add(embedded.addedVectors, ids: embedded.addedIDs)
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

        let failedChanged = Set(embedded.failedChangedIDs).count
        let changedCount = plan.changedIDs.count - failedChanged
        return IndexingReport(
            generation: generation.number, kind: kind, total: total,
            added: embedded.addedIDs.count - changedCount, changed: changedCount, touched: plan.touched.count,
            unchanged: plan.unchanged, removed: plan.removedIDs.count + failedChanged,
            embedded: embedded.addedIDs.count, unreadable: embedded.unreadable, rebuilt: rebuilt)
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
