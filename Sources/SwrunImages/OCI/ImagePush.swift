import SwrunJSON
import SwrunSystem

extension OCIStore {
    /// Pushes the cached image `reference` to its registry (docker push): each blob the
    /// registry lacks is linked from another of its repositories where this cache saw it there,
    /// else uploaded (in chunks of `chunkSize` past that size); then the manifest is put under
    /// the tag. Returns the manifest's digest.
    @discardableResult
    public func push(_ reference: ImageReference, caFile: String?, chunkSize: Int64 = 64 << 20,
                     report: (String) -> Void) throws(SwrunError) -> String {
        let inUse = try useLock()
        defer { withExtendedLifetime(inUse) {} }
        guard let (digest, manifest) = try cachedManifest(reference) else {
            throw SwrunError(.notFound, "no cached image \(reference)", hint: "pull it, or name a cached image for the registry with `swrun tag`")
        }
        let registry = RegistryClient(reference: reference, caFile: caFile, security: registrySecurity,
                                      credentials: credentials?.lookup(reference.registry))
        report("pushing \(reference)")
        var seen: Set<String> = []
        for blob in [manifest.config] + manifest.layers where seen.insert(blob.digest).inserted {
            let short = String(blob.digest.prefix(19))
            if try registry.hasBlob(blob.digest) {
                report("\(short): already there")
                continue
            }
            if let source = repository(holding: blob.digest, on: reference.registry, besides: reference.repository),
               try registry.mountBlob(blob.digest, from: source) {
                report("\(short): mounted from \(source)")
                continue
            }
            report("\(short): uploading \(blob.size) bytes")
            try registry.uploadBlob(blob.digest, path: blobPath(blob.digest), size: blob.size, chunkSize: chunkSize)
        }
        let bytes = try FileSystem.readBytes(blobPath(digest))
        let mediaType = (try? JSONValue(parsing: bytes))?["mediaType"]?.string ?? MediaType.ociManifest
        try registry.putManifest(bytes, mediaType: mediaType, tag: reference.digest ?? reference.tag ?? "latest")
        report("pushed \(reference) (\(digest))")
        return digest
    }

    /// Another repository of `registry` that this cache pulled or pushed an image of, with
    /// the blob among its layers: where the registry can link the blob from.
    func repository(holding blob: String, on registry: String, besides own: String) -> String? {
        for path in ImageCatalog.files(under: refs + "/" + registry) {
            let repository = String(path.split(separator: "/").dropLast().joined(separator: "/"))
            guard repository != own, let digest = try? FileSystem.readText(refs + "/" + registry + "/" + path).trimmed,
                  let document = try? JSONValue(parsing: (try? FileSystem.readBytes(blobPath(digest))) ?? []),
                  let manifest = try? ImageManifest(document, source: digest) else { continue }
            if manifest.config.digest == blob || manifest.layers.contains(where: { $0.digest == blob }) { return repository }
        }
        return nil
    }
}
