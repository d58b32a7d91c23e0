import SwrunSystem

/// Every image swrun can start a container from, by the name a user types: the built-in
/// busybox template, a tarball imported under a name, a short name such as `centos7`, or
/// any OCI reference. It knows the local caches; pulling is `pull`'s job.
public struct ImageCatalog {
    /// Short names: the LXC image server's DIST/RELEASE first, then Docker Hub.
    public static let aliases: [String: (dist: String, release: String, oci: String)] = [
        "centos7": ("centos", "7", "docker.io/library/centos:7"),
        "debian12": ("debian", "bookworm", "docker.io/library/debian:12"),
        "debian11": ("debian", "bullseye", "docker.io/library/debian:11"),
        "ubuntu24": ("ubuntu", "noble", "docker.io/library/ubuntu:24.04"),
        "alpine": ("alpine", "3.20", "docker.io/library/alpine:3.20"),
    ]

    public let ociStore: OCIStore
    /// LXC's cache root ($LXC_CACHE_PATH): the download template's images live in download/.
    public let lxcCacheRoot: String
    /// The image servers' signing keys swrun ships (SWRUN_KEYS_DIR).
    public let keysDirectory: String
    public let report: (String) -> Void

    public init(ociStore: OCIStore, lxcCacheRoot: String, keysDirectory: String = DownloadTemplate.shippedKeys,
                report: @escaping (String) -> Void) {
        self.ociStore = ociStore
        self.lxcCacheRoot = lxcCacheRoot
        self.keysDirectory = keysDirectory
        self.report = report
    }

    public init(environment: [String: String], fetcher: any BlobFetcher = SequentialBlobFetcher(), opener: ArchiveOpener = .inProcess,
                report: @escaping (String) -> Void) {
        self.init(ociStore: OCIStore(root: OCIStore.defaultRoot(environment: environment), fetcher: fetcher, opener: opener,
                                     registrySecurity: RegistrySecurity(environment: environment),
                                     credentials: RegistryCredentials(environment: environment)),
                  lxcCacheRoot: DownloadTemplate.defaultCacheRoot(environment: environment),
                  keysDirectory: DownloadTemplate.defaultKeysDirectory(environment: environment), report: report)
    }

    var importsDirectory: String { ociStore.root + "/imports" }

    public func importedPath(_ name: String) -> String { importsDirectory + "/" + name + ".tar" }

    /// The template for `name` from what is on this machine, or nil when it must be pulled first.
    public func localTemplate(_ name: String, unprivileged: Bool = false) throws(SwrunError) -> (any RootfsTemplate)? {
        if name == BusyboxTemplate.name { return BusyboxTemplate() }
        // A path ("/srv/rootfs.tar.xz", "./rootfs.tar"): that tarball, unpacked straight into the rootfs.
        if Self.isPath(name) { return TarballTemplate(path: name, opener: ociStore.opener) }
        if FileSystem.exists(importedPath(name)) { return TarballTemplate(path: importedPath(name), opener: ociStore.opener) }
        if let alias = Self.aliases[name] {
            let lxc = downloadTemplate(alias.dist, alias.release, forceCache: true, unprivileged: unprivileged)
            if FileSystem.exists(lxc.cacheDirectory + "/build_id") {
                report("using \(alias.dist)/\(alias.release) from the LXC image cache")
                return lxc
            }
            return try ociTemplate(try ImageReference(alias.oci), cachedOnly: true)
        }
        return try ociTemplate(try ImageReference(name), cachedOnly: true)
    }

    /// Fetches `name` into the local caches: a short name from the LXC image server, or, when
    /// that server lacks it or cannot be reached, from Docker Hub; any other name from its registry.
    public func pull(_ name: String, caFile: String? = nil) throws(SwrunError) {
        do {
            try fetch(name, caFile: caFile)
        } catch where error.code == .network {
            var error = error
            error.hint = (error.hint.map { $0 + "; " } ?? "")
                + "without a network, `swrun import TARBALL NAME` takes a rootfs tarball, and `busybox` needs none"
            throw error
        }
    }

    private func fetch(_ name: String, caFile: String?) throws(SwrunError) {
        if name == BusyboxTemplate.name || Self.isPath(name) || FileSystem.exists(importedPath(name)) { return }
        if let alias = Self.aliases[name] {
            do {
                try downloadTemplate(alias.dist, alias.release, forceCache: false, unprivileged: false).checkHost()
                report("\(name) is \(alias.dist)/\(alias.release) from \(DownloadOptions.defaultServer)")
                return
            } catch where error.code == .notFound || error.code == .network {
                report("\(name): not on \(DownloadOptions.defaultServer) (\(error.message)); trying \(alias.oci)")
            }
            try ociStore.pull(try ImageReference(alias.oci), caFile: caFile, report: report)
            report("\(name) is \(alias.oci)")
            return
        }
        try ociStore.pull(try ImageReference(name), caFile: caFile, report: report)
    }

    private func downloadTemplate(_ dist: String, _ release: String, forceCache: Bool, unprivileged: Bool) -> DownloadTemplate {
        var options = DownloadOptions()
        options.dist = dist
        options.release = release
        options.forceCache = forceCache
        let template = DownloadTemplate(options: options, cacheRoot: lxcCacheRoot, keysDirectory: keysDirectory,
                                        unprivileged: unprivileged, report: report)
        template.opener = ociStore.opener
        return template
    }

    private func ociTemplate(_ reference: ImageReference, cachedOnly: Bool) throws(SwrunError) -> OCITemplate? {
        guard !cachedOnly || ociStore.cachedManifest(orNil: reference) != nil else { return nil }
        return OCITemplate(reference: reference, store: ociStore, report: report)
    }

    // MARK: The local cache

    public struct CachedImage: Sendable, Equatable {
        public var name: String
        public var kind: String
        public var detail: String
    }

    /// What `swrun images` lists: pulled OCI references, LXC downloads and imported tarballs.
    public func cachedImages() -> [CachedImage] {
        var images: [CachedImage] = []
        for path in Self.files(under: ociStore.root + "/oci/refs") {
            let digest = (try? FileSystem.readText(ociStore.root + "/oci/refs/" + path).trimmed) ?? ""
            let parts = path.split(separator: "/")
            guard parts.count >= 3 else { continue }
            let tag = String(parts.last!)
            let name = parts.dropLast().joined(separator: "/") + (tag.hasPrefix("sha256:") ? "@" : ":") + tag
            images.append(CachedImage(name: name, kind: "oci", detail: String(digest.prefix(19))))
        }
        for path in Self.files(under: lxcCacheRoot + "/download") where path.hasSuffix("/build_id") {
            let key = String(path.dropLast("/build_id".count))
            let build = (try? FileSystem.readText(lxcCacheRoot + "/download/" + path).trimmed) ?? ""
            images.append(CachedImage(name: key, kind: "lxc", detail: "build " + build))
        }
        for file in (try? FileSystem.listDirectory(importsDirectory)) ?? [] where file.hasSuffix(".tar") {
            images.append(CachedImage(name: String(file.dropLast(4)), kind: "import", detail: importsDirectory + "/" + file))
        }
        return images
    }

    /// Removes a cached image by the name `swrun images` shows; layers no other image uses go too.
    public func remove(_ name: String) throws(SwrunError) {
        if FileSystem.exists(importedPath(name)) { return try FileSystem.removeTree(importedPath(name)) }
        let lxc = lxcCacheRoot + "/download/" + name
        if !name.contains(":"), FileSystem.exists(lxc + "/build_id") { return try FileSystem.removeTree(lxc) }
        let reference = try ImageReference(Self.aliases[name]?.oci ?? name)
        let ref = ociStore.refPath(reference)
        guard FileSystem.exists(ref) else {
            throw SwrunError(.notFound, "no cached image '\(name)'", hint: "see the cached images with `swrun images`")
        }
        try FileSystem.removeTree(ref)
        try ociStore.collectGarbage()
    }

    /// Gives the cached OCI image `source` a second name, `target` (docker tag): a reference to
    /// the same manifest, which `run`, `images` and `push` then know.
    public func tag(_ source: String, as target: String) throws(SwrunError) {
        let reference = try ImageReference(Self.aliases[source]?.oci ?? source)
        guard let digest = try? FileSystem.readText(ociStore.refPath(reference)).trimmed, FileSystem.exists(ociStore.blobPath(digest)) else {
            throw SwrunError(.notFound, "no cached OCI image '\(source)'",
                             hint: FileSystem.exists(importedPath(source)) ? "an imported tarball is no OCI image: import it again under the new name" : "pull it first, or see `swrun images`")
        }
        let name = try ImageReference(target)
        guard name.digest == nil else {
            throw SwrunError(.invalidArgument, "a tag names a tag, not a digest: \(target)", hint: "give NAME[:TAG], e.g. registry.local:5000/web:v2")
        }
        try FileSystem.makeDirectories(FileSystem.parentPath(ociStore.refPath(name)), mode: 0o755)
        try FileSystem.writeAtomically(ociStore.refPath(name), digest + "\n")
    }

    /// Removes the blobs and unpacked layers that no cached image and no container uses.
    public func prune() throws(SwrunError) {
        try ociStore.collectGarbage()
    }

    /// Whether an image name is a file's path: no OCI reference or short name starts with / or ./.
    static func isPath(_ name: String) -> Bool { name.hasPrefix("/") || name.hasPrefix("./") || name.hasPrefix("../") }

    /// Relative paths of the regular files below `root`.
    static func files(under root: String, prefix: String = "") -> [String] {
        var result: [String] = []
        for name in (try? FileSystem.listDirectory(root + "/" + prefix)) ?? [] where !name.hasPrefix(".") {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            switch FileSystem.kind(of: root + "/" + relative) {
            case .directory: result += files(under: root, prefix: relative)
            case .regular: result.append(relative)
            default: break
            }
        }
        return result
    }
}

extension ImageCatalog {
    /// Checks that `tarball` unpacks (into a scratch directory, removed after), then keeps a
    /// copy as image `name`. A bad archive is refused here, not at the first `run`.
    public func importTarball(_ tarball: String, as name: String) throws(SwrunError) {
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), ImageCatalog.aliases[name] == nil, name != BusyboxTemplate.name else {
            throw SwrunError(.invalidArgument, "'\(name)' cannot name an imported image", hint: "use a plain name without '/', not a short name swrun knows")
        }
        let template = TarballTemplate(path: tarball, opener: ociStore.opener)
        try template.checkHost()
        try FileSystem.makeDirectories(importsDirectory, mode: 0o755)
        let scratch = importsDirectory + "/.check-" + name
        try FileSystem.removeTree(scratch)
        try FileSystem.makeDirectory(scratch, mode: 0o700)
        defer { try? FileSystem.removeTree(scratch) }
        try template.install(rootfs: scratch, name: name, report: report)
        // An image archive unpacks too, but as blobs and manifests: no system to run.
        if ["oci-layout", "manifest.json", "index.json"].contains(where: { FileSystem.exists(scratch + "/" + $0) }) && !FileSystem.exists(scratch + "/bin") {
            throw SwrunError(.invalidArgument, "\(tarball) is an image archive (docker save or OCI layout), not a rootfs",
                             hint: "load it with `swrun load -i \(tarball)`")
        }
        try FileSystem.copyFile(from: tarball, to: importedPath(name), mode: 0o644)
    }
}
