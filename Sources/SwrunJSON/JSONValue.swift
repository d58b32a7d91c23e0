// A small JSON reader for image indexes, registry manifests and image configs.
