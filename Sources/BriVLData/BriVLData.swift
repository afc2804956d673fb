// The BriVLData target: shards, importers, loader and cleaning.
