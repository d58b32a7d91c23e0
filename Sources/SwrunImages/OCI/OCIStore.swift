import SwrunConfig
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// swrun's OCI image cache: blobs by digest, shared by every image that has them, and one
/// small file per pulled reference naming its manifest's digest.
///   ROOT/oci/blobs/sha256/HEX          manifests, configs and layers, verified
///   ROOT/oci/refs/REGISTRY/REPOSITORY/TAG   the digest of the image's manifest
public struct OCIStore: Sendable {
    public let root: String
    /// How missing blobs are downloaded: in parallel worker processes from the CLI.
    public let fetcher: any BlobFetcher
    /// How layers are decompressed when they unpack: in a worker process from the CLI.
    public let opener: ArchiveOpener
    /// Which registries may be reached over plain HTTP.
    public let registrySecurity: RegistrySecurity
    /// The registry logins (`swrun login`), for registries that want one.
    public let credentials: RegistryCredentials?

    public init(root: String, fetcher: any BlobFetcher = SequentialBlobFetcher(), opener: ArchiveOpener = .inProcess,
                registrySecurity: RegistrySecurity = RegistrySecurity(insecureRegistries: []), credentials: RegistryCredentials? = nil) {
        self.root = root
        self.fetcher = fetcher
        self.opener = opener
        self.registrySecurity = registrySecurity
        self.credentials = credentials
    }

    /// SWRUN_CACHE_PATH, or /var/cache/swrun.
    public static func defaultRoot(environment: [String: String]) -> String {
        environment["SWRUN_CACHE_PATH"] ?? "/var/cache/swrun"
    }

    var blobs: String { root + "/oci/blobs/sha256" }
    var refs: String { root + "/oci/refs" }

    /// Held shared while blobs are being added or read (pull, unpack) and exclusively while
    /// `image rm` prunes them, so that a pull's blobs, fetched before its ref is written, or
    /// a layer being unpacked, never go from under it.
    func useLock(exclusive: Bool = false) throws(SwrunError) -> FileLock {
        try FileSystem.makeDirectories(root + "/oci", mode: 0o755)
        return try FileLock.acquire(root + "/oci/store.lock", shared: !exclusive)
    }

    public func blobPath(_ digest: String) -> String { blobs + "/" + digest.dropFirst("sha256:".count) }

    /// Keeps `bytes` (a config or a manifest) as a blob, once; returns its digest and size.
    func keepBlob(_ bytes: [UInt8]) throws(SwrunError) -> (digest: String, size: Int) {
        let digest = "sha256:" + SHA256.hexDigest(of: bytes)
        if !FileSystem.exists(blobPath(digest)) { try FileSystem.writeAtomically(blobPath(digest), bytes) }
        return (digest, bytes.count)
    }

    func refPath(_ reference: ImageReference) -> String {
        [refs, reference.registry, reference.repository, reference.digest ?? reference.tag ?? "latest"].joined(separator: "/")
    }

    /// The manifest a pulled reference names, read from the cache only.
    public func cachedManifest(_ reference: ImageReference) throws(SwrunError) -> (digest: String, manifest: ImageManifest)? {
        guard let digest = try? FileSystem.readText(refPath(reference)).trimmed, FileSystem.exists(blobPath(digest)) else { return nil }
        let source = "the cached manifest of \(reference)"
        let document: JSONValue
        do { document = try JSONValue(parsing: try FileSystem.readBytes(blobPath(digest))) } catch {
            throw SwrunError(.verificationFailed, "\(source) is damaged", hint: "remove it with `swrun image rm \(reference)` and pull again")
        }
        return (digest, try ImageManifest(document, source: source))
    }

    public func config(of manifest: ImageManifest) throws(SwrunError) -> JSONValue {
        do { return try JSONValue(parsing: try FileSystem.readBytes(blobPath(manifest.config.digest))) } catch {
            throw SwrunError(.verificationFailed, "the cached image config \(manifest.config.digest) is damaged",
                             hint: "remove the image with `swrun image rm` and pull it again")
        }
    }

    /// Pulls `reference` into the cache: the manifest for this machine, its config, and the
    /// layers not cached yet. Returns the manifest's digest.
    @discardableResult
    public func pull(_ reference: ImageReference, caFile: String?, report: (String) -> Void) throws(SwrunError) -> String {
        let registry = RegistryClient(reference: reference, caFile: caFile, security: registrySecurity,
                                      credentials: credentials?.lookup(reference.registry))
        report("pulling \(reference)")
        // The registry is asked first: a name it does not know leaves no cache directory or lock behind.
        var (type, bytes) = try registry.manifest(reference.manifestReference)
        let inUse = try useLock()
        defer { withExtendedLifetime(inUse) {} }
        try FileSystem.makeDirectories(blobs, mode: 0o755)
        var digest = "sha256:" + SHA256.hexDigest(of: bytes)
        if let wanted = reference.digest, wanted != digest {
            throw SwrunError(.verificationFailed, "the manifest of \(reference) has digest \(digest), not the one asked for",
                             hint: "the registry served something else; try again, or check the digest")
        }
        var document = try Self.parse(bytes, source: "the manifest of \(reference)")
        let mediaType = document["mediaType"]?.string ?? type
        if mediaType == MediaType.ociIndex || mediaType == MediaType.dockerList || document["manifests"] != nil {
            let platform = ImageManifest.platform(machine: Architecture.hostMachine)
            let chosen = try ImageManifest.select(from: document, architecture: platform.architecture, variant: platform.variant,
                                                  source: "the index of \(reference)")
            (type, bytes) = try registry.manifest(chosen.digest)
            digest = "sha256:" + SHA256.hexDigest(of: bytes)
            guard digest == chosen.digest else {
                throw SwrunError(.verificationFailed, "the manifest \(chosen.digest) of \(reference) does not match its digest (got \(digest))",
                                 hint: "the registry served a damaged manifest; try again")
            }
            document = try Self.parse(bytes, source: "the manifest of \(reference)")
        }
        let manifest = try ImageManifest(document, source: "the manifest of \(reference)")
        // Each blob once, even when an image names a layer twice.
        var seen: Set<String> = []
        let blobs = ([manifest.config] + manifest.layers).filter { seen.insert($0.digest).inserted }
        var downloads: [BlobDownload] = []
        for blob in blobs where !FileSystem.exists(blobPath(blob.digest)) {
            downloads.append(try registry.blobDownload(blob, to: blobPath(blob.digest)))
        }
        try fetcher.fetch(downloads, report: report)
        try FileSystem.writeAtomically(blobPath(digest), bytes)
        try FileSystem.makeDirectories(FileSystem.parentPath(refPath(reference)), mode: 0o755)
        try FileSystem.writeAtomically(refPath(reference), digest + "\n")
        report("pulled \(reference) (\(digest), \(manifest.layers.count) layers)")
        return digest
    }

    static func parse(_ bytes: [UInt8], source: String) throws(SwrunError) -> JSONValue {
        do { return try JSONValue(parsing: bytes) } catch {
            throw SwrunError(.verificationFailed, "\(source) is not valid JSON: \(error)", hint: "the registry sent something else; try again")
        }
    }
}

extension OCIStore {
    /// Removes the blobs that no pulled reference's manifest names any more, and the unpacked
    /// layers that neither such an image nor a container uses.
    func collectGarbage() throws(SwrunError) {
        let pruning = try useLock(exclusive: true)
        defer { withExtendedLifetime(pruning) {} }
        // The build cache names layers no image may hold: it goes with the prune, as Docker's does.
        try? FileSystem.removeTree(root + "/oci/build-cache")
        var live: Set<String> = []
        var liveLayers: Set<String> = []
        for path in ImageCatalog.files(under: refs) {
            guard let digest = try? FileSystem.readText(refs + "/" + path).trimmed else { continue }
            live.insert(digest)
            if let document = try? JSONValue(parsing: (try? FileSystem.readBytes(blobPath(digest))) ?? []),
               let manifest = try? ImageManifest(document, source: digest) {
                live.insert(manifest.config.digest)
                manifest.layers.forEach { live.insert($0.digest) }
                if let config = try? self.config(of: manifest) {
                    (config["rootfs"]?["diff_ids"]?.array ?? []).compactMap(\.string).forEach { liveLayers.insert($0) }
                }
            }
        }
        try LayerStore(store: self).prune(keeping: liveLayers)
        for file in (try? FileSystem.listDirectory(blobs)) ?? [] {
            guard let hex = file.split(separator: ".").first else { continue }
            if !live.contains("sha256:" + hex) { try FileSystem.removeTree(blobs + "/" + file) }
        }
    }
}
