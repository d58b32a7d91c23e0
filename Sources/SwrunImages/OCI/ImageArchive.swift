import Glibc
import SwrunConfig
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// Images in and out of single files. `save` writes an OCI image layout (oci-layout,
/// index.json, blobs/sha256/...) that is also a `docker save` archive: a manifest.json beside
/// it names each image's config and layers among the same blobs, as Docker 25 writes it, so
/// both `docker load` and OCI tools (skopeo's oci-archive:) read it. `load` reads that, any OCI
/// image layout archive, and the older `docker save` format (a directory a layer).
public struct ImageArchive {
    let store: OCIStore

    public init(store: OCIStore) {
        self.store = store
    }

    // MARK: save

    /// Writes the cached images `names` (as `swrun images` shows them) into the tar file `path`.
    public func save(_ names: [String], to path: String) throws(SwrunError) {
        let inUse = try store.useLock()
        defer { withExtendedLifetime(inUse) {} }
        let staging = (path == "-" ? store.root + "/oci/.save-\(getpid())" : path) + ".partial.d"
        try? FileSystem.removeTree(staging)
        try FileSystem.makeDirectories(staging + "/blobs/sha256", mode: 0o755)
        defer { try? FileSystem.removeTree(staging) }
        var index: [JSONValue] = []
        var dockerManifest: [JSONValue] = []
        for name in names {
            let reference = try ImageReference(ImageCatalog.aliases[name]?.oci ?? name)
            guard let (digest, manifest) = try store.cachedManifest(reference) else {
                throw SwrunError(.notFound, "no cached OCI image '\(name)'", hint: "pull it first, or see `swrun images`")
            }
            for blob in [digest, manifest.config.digest] + manifest.layers.map(\.digest) {
                try stage(blob, in: staging)
            }
            let bytes = try FileSystem.readBytes(store.blobPath(digest))
            let mediaType = (try? JSONValue(parsing: bytes))?["mediaType"]?.string ?? MediaType.ociManifest
            index.append(.object([
                "mediaType": .string(mediaType), "digest": .string(digest), "size": .number(String(bytes.count)),
                "annotations": .object(["io.containerd.image.name": .string(reference.description),
                                        "org.opencontainers.image.ref.name": .string(reference.tag ?? reference.digest ?? "latest")]),
            ]))
            dockerManifest.append(.object([
                "Config": .string(Self.blobName(manifest.config.digest)),
                "RepoTags": .array(reference.tag == nil ? [] : [.string(Self.familiarName(reference))]),
                "Layers": .array(manifest.layers.map { .string(Self.blobName($0.digest)) }),
            ]))
        }
        try FileSystem.writeAtomically(staging + "/oci-layout", JSONValue.object(["imageLayoutVersion": .string("1.0.0")]).serialized)
        try FileSystem.writeAtomically(staging + "/index.json", JSONValue.object([
            "schemaVersion": .number("2"), "mediaType": .string(MediaType.ociIndex), "manifests": .array(index),
        ]).serialized)
        try FileSystem.writeAtomically(staging + "/manifest.json", JSONValue.array(dockerManifest).serialized)
        // The blobs are links into the cache: tar -h archives what they point at. "-" is stdout.
        let written = path == "-" ? "-" : path + ".partial"
        try Self.tar(["tar", "-h", "--numeric-owner", "--owner=0", "--group=0", "--sort=name", "-C", staging, "-cf", written, "."],
                     what: "write \(path == "-" ? "the archive" : path)")
        guard path == "-" || rename(written, path) == 0 else { throw SwrunError.system("cannot move the archive to \(path)", Errno.current) }
    }

    private func stage(_ digest: String, in staging: String) throws(SwrunError) {
        let link = staging + "/" + Self.blobName(digest)
        if FileSystem.exists(link) { return }
        guard symlink(store.blobPath(digest), link) == 0 else { throw SwrunError.system("cannot stage \(digest)", Errno.current) }
    }

    static func blobName(_ digest: String) -> String { "blobs/sha256/" + digest.dropFirst("sha256:".count) }

    /// The name Docker shows: docker.io's library images by their short name.
    static func familiarName(_ reference: ImageReference) -> String {
        var name = reference.registry == "docker.io" ? reference.repository : reference.registry + "/" + reference.repository
        if name.hasPrefix("library/") && reference.registry == "docker.io" { name = String(name.dropFirst("library/".count)) }
        return name + ":" + (reference.tag ?? "latest")
    }

    // MARK: load

    /// Reads the images of the archive `path` into the cache; returns their names. Every blob is
    /// checked against its digest before it joins the cache; nothing is kept of a bad archive.
    public func load(_ path: String, report: @escaping (String) -> Void) throws(SwrunError) -> [String] {
        let inUse = try store.useLock()
        defer { withExtendedLifetime(inUse) {} }
        try FileSystem.makeDirectories(store.blobs, mode: 0o755)
        let staging = store.root + "/oci/.load-\(getpid())"
        try? FileSystem.removeTree(staging)
        try FileSystem.makeDirectory(staging, mode: 0o700)
        defer { try? FileSystem.removeTree(staging) }
        report("reading \(path)")
        // The confined unpacker: a hostile archive writes nothing outside the staging directory.
        try RootfsUnpacker(rootfs: staging, warn: { report("warning: \($0)") }).unpack(file: path, opener: store.opener)
        if FileSystem.exists(staging + "/index.json") { return try loadLayout(staging, archive: path) }
        if FileSystem.exists(staging + "/manifest.json") { return try loadDockerArchive(staging, archive: path) }
        throw SwrunError(.invalidArgument, "\(path) is neither an OCI image layout nor a docker save archive (no index.json, no manifest.json)",
                         hint: "a rootfs tarball is imported with `swrun import FILE NAME`")
    }

    /// An OCI image layout: each manifest of index.json (an index inside it is resolved to this
    /// machine's platform), named by its annotations, or by manifest.json's RepoTags.
    private func loadLayout(_ staging: String, archive: String) throws(SwrunError) -> [String] {
        let index = try Self.json(staging + "/index.json", archive: archive)
        let dockerTags = Self.dockerTags(staging)
        var names: [String] = []
        for entry in index["manifests"]?.array ?? [] {
            var descriptor = try Descriptor(entry, in: "\(archive): index.json")
            var document = try Self.json(try verifiedBlob(descriptor.digest, in: staging, archive: archive), archive: archive)
            if document["manifests"] != nil {
                let platform = ImageManifest.platform(machine: Architecture.hostMachine)
                descriptor = try ImageManifest.select(from: document, architecture: platform.architecture, variant: platform.variant,
                                                      source: "\(archive): \(descriptor.digest)")
                document = try Self.json(try verifiedBlob(descriptor.digest, in: staging, archive: archive), archive: archive)
            }
            let manifest = try ImageManifest(document, source: "\(archive): \(descriptor.digest)")
            let annotations = entry["annotations"]
            let tags = [annotations?["io.containerd.image.name"]?.string, annotations?["org.opencontainers.image.ref.name"]?.string]
                .compactMap { $0 }.filter { $0.contains("/") || $0.contains(":") }
            let named = tags.isEmpty ? dockerTags[Self.blobName(manifest.config.digest)] ?? [] : [tags[0]]
            guard !named.isEmpty else {
                throw SwrunError(.invalidArgument, "\(archive): the image \(descriptor.digest) has no name",
                                 hint: "name it when saving (skopeo copy ... oci-archive:FILE:NAME:TAG, docker save NAME:TAG)")
            }
            try keep(manifest, digest: descriptor.digest, from: staging, archive: archive)
            for name in named { names.append(try writeRef(name, digest: descriptor.digest)) }
        }
        return names
    }

    /// The older docker save format: manifest.json names a config file and layer tars (plain or
    /// compressed), which become the blobs of an OCI manifest written here.
    private func loadDockerArchive(_ staging: String, archive: String) throws(SwrunError) -> [String] {
        let entries = try Self.json(staging + "/manifest.json", archive: archive).array ?? []
        var names: [String] = []
        for entry in entries {
            guard let configPath = entry["Config"]?.string, let layerPaths = entry["Layers"]?.array?.compactMap(\.string) else {
                throw SwrunError(.verificationFailed, "\(archive): manifest.json has an entry without Config or Layers", hint: "the archive is damaged")
            }
            let config = try adopt(staging + "/" + configPath, archive: archive)
            var layers: [JSONValue] = []
            for layerPath in layerPaths {
                let layer = try adopt(staging + "/" + layerPath, archive: archive)
                layers.append(.object(["mediaType": .string(Self.layerType(of: store.blobPath(layer.digest))), "digest": .string(layer.digest),
                                       "size": .number(String(layer.size))]))
            }
            let manifest = JSONValue.object([
                "schemaVersion": .number("2"), "mediaType": .string(MediaType.ociManifest),
                "config": .object(["mediaType": .string("application/vnd.oci.image.config.v1+json"), "digest": .string(config.digest),
                                   "size": .number(String(config.size))]),
                "layers": .array(layers),
            ])
            let bytes = Array(manifest.serialized.utf8)
            let digest = "sha256:" + SHA256.hexDigest(of: bytes)
            try FileSystem.writeAtomically(store.blobPath(digest), bytes)
            let tags = entry["RepoTags"]?.array?.compactMap(\.string) ?? []
            guard !tags.isEmpty else {
                throw SwrunError(.invalidArgument, "\(archive): an image has no RepoTags", hint: "save it by name: docker save NAME:TAG")
            }
            for tag in tags { names.append(try writeRef(tag, digest: digest)) }
        }
        return names
    }

    /// The manifest's blobs, checked, into the cache; then the manifest itself.
    private func keep(_ manifest: ImageManifest, digest: String, from staging: String, archive: String) throws(SwrunError) {
        for blob in [manifest.config.digest] + manifest.layers.map(\.digest) + [digest] where !FileSystem.exists(store.blobPath(blob)) {
            try move(try verifiedBlob(blob, in: staging, archive: archive), to: store.blobPath(blob))
        }
    }

    /// A blob of the layout, its content checked against its name; one the cache has (verified
    /// when it came, or moved there for an image before this one) is read there.
    private func verifiedBlob(_ digest: String, in staging: String, archive: String) throws(SwrunError) -> String {
        if FileSystem.exists(store.blobPath(digest)) { return store.blobPath(digest) }
        let path = staging + "/" + Self.blobName(digest)
        guard FileSystem.exists(path) else {
            throw SwrunError(.verificationFailed, "\(archive) lacks the blob \(digest)", hint: "the archive is incomplete; save it again")
        }
        let actual = "sha256:" + (try SHA256.hexDigest(ofFile: path))
        guard actual == digest else {
            throw SwrunError(.verificationFailed, "\(archive): the blob \(digest) holds \(actual)", hint: "the archive is damaged or was tampered with")
        }
        return path
    }

    /// A file of a docker save archive into the cache, named by its digest.
    private func adopt(_ path: String, archive: String) throws(SwrunError) -> (digest: String, size: Int64) {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw SwrunError(.verificationFailed, "\(archive) lacks \(path.dropFirst(FileSystem.parentPath(path).count))", hint: "the archive is incomplete")
        }
        let digest = "sha256:" + (try SHA256.hexDigest(ofFile: path))
        if !FileSystem.exists(store.blobPath(digest)) { try move(path, to: store.blobPath(digest)) }
        return (digest, Int64(status.st_size))
    }

    private func move(_ source: String, to destination: String) throws(SwrunError) {
        guard rename(source, destination) == 0 else { throw SwrunError.system("cannot move \(source) into the cache", Errno.current) }
        chmod(destination, 0o644)
    }

    private func writeRef(_ name: String, digest: String) throws(SwrunError) -> String {
        let reference = try ImageReference(name)
        try FileSystem.makeDirectories(FileSystem.parentPath(store.refPath(reference)), mode: 0o755)
        try FileSystem.writeAtomically(store.refPath(reference), digest + "\n")
        return reference.description
    }

    /// manifest.json's RepoTags by config path, where a layout also has one.
    static func dockerTags(_ staging: String) -> [String: [String]] {
        guard let entries = (try? JSONValue(parsing: (try? FileSystem.readBytes(staging + "/manifest.json")) ?? []))?.array else { return [:] }
        var tags: [String: [String]] = [:]
        for entry in entries {
            if let config = entry["Config"]?.string { tags[config, default: []] += entry["RepoTags"]?.array?.compactMap(\.string) ?? [] }
        }
        return tags
    }

    /// A layer's media type from its first bytes: gzip, zstd, or a plain tar.
    static func layerType(of path: String) -> String {
        var head = [UInt8](repeating: 0, count: 4)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = read(fd, &head, 4)
            close(fd)
        }
        if head.starts(with: [0x1F, 0x8B]) { return "application/vnd.oci.image.layer.v1.tar+gzip" }
        if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return "application/vnd.oci.image.layer.v1.tar+zstd" }
        return "application/vnd.oci.image.layer.v1.tar"
    }

    static func json(_ path: String, archive: String) throws(SwrunError) -> JSONValue {
        do { return try JSONValue(parsing: try FileSystem.readBytes(path)) } catch {
            throw SwrunError(.verificationFailed, "\(archive): \(path.split(separator: "/").last ?? "") is not valid JSON", hint: "the archive is damaged")
        }
    }

    static func tar(_ argv: [String], what: String) throws(SwrunError) {
        let pid: pid_t
        do { pid = try Subprocess.spawn(argv) } catch { throw SwrunError.system("cannot run tar to \(what)", error, hint: "install tar") }
        let status = try waitForProcess(pid)
        guard status == .exited(0) else { throw SwrunError(.system, "tar could not \(what): it \(status)", hint: "see tar's message above") }
    }
}
