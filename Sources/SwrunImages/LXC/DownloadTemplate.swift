import CLinux
import Glibc
import SwrunConfig
import SwrunHTTP
import SwrunSystem

/// LXC's download template: an image from an LXC image server, cached in LXC's layout
/// (`$LXC_CACHE_PATH/download/DIST/RELEASE/ARCH/VARIANT/`), verified, then unpacked.
/// All network work happens in `checkHost`, before the container's directory exists.
public final class DownloadTemplate: RootfsTemplate {
    static let metaFiles = ["config", "config-user", "excludes-user", "templates", "create-message", "expiry"]

    let options: DownloadOptions
    let keysDirectory: String
    let cacheRoot: String
    let unprivileged: Bool
    let report: (String) -> Void
    /// How rootfs.tar.xz is decompressed: in a worker process from the CLI.
    public var opener = ArchiveOpener.inProcess
    private var image: LXCImage?

    /// `cacheRoot` is LXC's cache directory (LXC_CACHE_PATH, /var/cache/lxc by default);
    /// `keysDirectory` holds the signing keys swrun ships, one keyring per server host.
    public init(options: DownloadOptions, cacheRoot: String, keysDirectory: String = DownloadTemplate.shippedKeys,
                unprivileged: Bool, report: @escaping (String) -> Void) {
        self.options = options
        self.cacheRoot = cacheRoot
        self.keysDirectory = keysDirectory
        self.unprivileged = unprivileged
        self.report = report
    }

    public static func defaultCacheRoot(environment: [String: String]) -> String {
        environment["LXC_CACHE_PATH"] ?? "/var/cache/lxc"
    }

    /// Where `make install` puts the image servers' signing keys (packaging/keys).
    public static let shippedKeys = "/usr/share/swrun/keys"

    /// SWRUN_KEYS_DIR, or the installed keys.
    public static func defaultKeysDirectory(environment: [String: String]) -> String {
        environment["SWRUN_KEYS_DIR"] ?? shippedKeys
    }

    /// The keyring swrun ships for the server's host (KEYS/HOST.gpg), trusted for that server
    /// only, as apt's signed-by is: a key never vouches for another server's images.
    var shippedKeyring: String? {
        guard let host = try? HTTPURL(options.server).host else { return nil }
        let path = keysDirectory + "/" + host + ".gpg"
        return FileSystem.exists(path) ? path : nil
    }

    public var origin: String {
        guard let image else { return "an image from \(options.server)" }
        return "the image \(image.key) (build \(image.build)) from \(options.server)"
    }

    var cacheDirectory: String {
        [cacheRoot, "download", options.dist ?? "", options.release ?? "", options.arch ?? hostArch, options.variant].joined(separator: "/")
    }

    private var hostArch: String { LXCImageIndex.hostArchitecture(machine: Architecture.hostMachine) }

    // MARK: Fetching

    public func checkHost() throws(SwrunError) {
        let directory = cacheDirectory
        if options.flushCache { try FileSystem.removeTree(directory) }
        try FileSystem.makeDirectories(directory, mode: 0o755)
        // One download per image at a time; a second create waits and then finds it cached.
        let lock = try FileLock.acquire(directory + "/.lock")
        defer { _ = lock }
        let cachedBuild = try? FileSystem.readText(directory + "/build_id").trimmed
        if options.forceCache {
            guard let cachedBuild, isComplete(directory) else {
                throw SwrunError(.notFound, "no cached image in \(directory)", hint: "run without --force-cache to download it")
            }
            report("using the cached image (build \(cachedBuild)), as --force-cache asks")
            image = cachedImage(build: cachedBuild)
            return
        }
        let server = LXCImageServer(base: options.server, caFile: options.caFile)
        report("looking for \(options.dist ?? "")/\(options.release ?? "")/\(options.arch ?? hostArch)/\(options.variant) on \(options.server)")
        let found = try server.select(options, from: try server.images())
        image = found
        if cachedBuild == found.build && isComplete(directory) {
            report("using the cached image (build \(found.build)) in \(directory)")
            return
        }
        try download(found, from: server, into: directory)
    }

    private func cachedImage(build: String) -> LXCImage {
        LXCImage(dist: options.dist ?? "", release: options.release ?? "", arch: options.arch ?? hostArch,
                 variant: options.variant, build: build, directory: "")
    }

    private func isComplete(_ directory: String) -> Bool {
        FileSystem.exists(directory + "/rootfs.tar.xz") && FileSystem.exists(directory + "/config")
    }

    /// Downloads into a folder of the build's own (so a resumed download never mixes two
    /// builds), verifies, and only then moves the files into the cache, build_id last.
    private func download(_ image: LXCImage, from server: LXCImageServer, into directory: String) throws(SwrunError) {
        let staging = directory + "/.download-" + image.build.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        try FileSystem.makeDirectories(staging, mode: 0o700)
        let downloader = Downloader(client: server.client)
        let verifier = try verification(for: image)
        for file in ["meta.tar.xz", "rootfs.tar.xz"] {
            let url = try server.url(image.directory + file)
            let target = staging + "/" + file
            report("downloading \(url)")
            if !FileSystem.exists(target) {
                try downloader.download(url, to: target, expectedSHA256: options.validate ? image.sha256[file] : nil,
                                        expectedSize: image.sizes[file], progress: DownloadProgress(name: file))
            }
            do {
                try verifier?(file, target, url)
            } catch {
                try? FileSystem.removeTree(staging)  // a bad file must not stay to be resumed or reused
                throw error
            }
        }
        try extractMeta(staging + "/meta.tar.xz", into: staging)
        for file in ["rootfs.tar.xz"] + Self.metaFiles where FileSystem.exists(staging + "/" + file) {
            if rename(staging + "/" + file, directory + "/" + file) != 0 {
                throw SwrunError.system("cannot move \(file) into the cache \(directory)", Errno.current)
            }
        }
        try FileSystem.writeAtomically(directory + "/build_id", image.build + "\n")
        try FileSystem.removeTree(staging)
    }

    /// How each downloaded file is checked beyond the index's checksums: a signature by a key
    /// in --keyring or in the keyring swrun ships for the server, or (with no key at all, over
    /// HTTPS, as LXC 5 does) the server's certificate.
    private func verification(for image: LXCImage) throws(SwrunError) -> ((String, String, HTTPURL) throws(SwrunError) -> Void)? {
        guard options.validate else {
            report("warning: not verifying the image (--no-validate): it is used as downloaded")
            return nil
        }
        let keyrings = options.keyrings + (shippedKeyring.map { [$0] } ?? [])
        if !keyrings.isEmpty {
            let check = SignatureCheck(keyrings: keyrings)
            let client = Downloader(client: HTTPClient(options: .init(caFile: options.caFile)))
            return { (file, path, url) throws(SwrunError) in
                let signature = path + ".asc"
                try client.download(try HTTPURL(url.description + ".asc"), to: signature)
                try check.verify(path, signature: signature)
            }
        }
        if image.sha256["rootfs.tar.xz"] != nil { return nil }  // simplestreams checksums, checked while downloading
        guard options.server.hasPrefix("https://") else {
            throw SwrunError(.verificationFailed, "cannot verify images from \(options.server): no signing key and no HTTPS",
                             hint: "give the server's signing key with --keyring FILE, use an https:// server, or skip the check with --no-validate")
        }
        report("no signing key given: trusting the server's HTTPS certificate, as LXC 5 does (add --keyring FILE to check signatures)")
        return nil
    }

    /// The files of meta.tar.xz that LXC uses, taken out of the archive by name only.
    private func extractMeta(_ archive: String, into directory: String) throws(SwrunError) {
        let reader = TarReader(try DecompressingSource(try FileSource(path: archive)), name: archive)
        while let entry = try reader.next() {
            let name = String(entry.path.split(separator: "/").last ?? "")
            guard entry.kind == .file, Self.metaFiles.contains(name), entry.size <= 1 << 20 else { continue }
            try FileSystem.writeAtomically(directory + "/" + name, try reader.readAllData())
        }
        guard FileSystem.exists(directory + "/config") else {
            throw SwrunError(.verificationFailed, "\(archive) has no config file", hint: "the image is damaged; try again with --flush-cache")
        }
    }

    // MARK: Installing

    public func install(rootfs: String, name: String, report: @escaping (String) -> Void) throws(SwrunError) {
        let directory = cacheDirectory
        report("unpacking \(directory)/rootfs.tar.xz into \(rootfs)")
        // No device nodes, privileged or not: autodev makes /dev (excludes-user lists the ones an image has).
        let unpacker = try RootfsUnpacker(rootfs: rootfs, warn: { report("warning: \($0)") })
        try unpacker.unpack(file: directory + "/rootfs.tar.xz", opener: opener)
        if let templates = try? FileSystem.readText(directory + "/templates") {
            for path in templates.split(separator: "\n") where !path.isEmpty {
                // /etc/hostname and friends: LXC_NAME becomes the container's name.
                RootfsFile.rewrite(String(path), in: rootfs) { text in
                    text.flatMap { $0.contains("LXC_NAME") ? $0.split(separator: "LXC_NAME", omittingEmptySubsequences: false).joined(separator: name) : nil }
                }
            }
        }
        if let message = try? FileSystem.readText(directory + "/create-message"), !message.isEmpty {
            report(message.trimmed)
        }
    }

    /// The image's config (or config-user), from the cache: the rootfs has no say in it.
    public func configSettings(rootfs: String) throws(SwrunError) -> [(key: String, value: String)] {
        let file = cacheDirectory + (unprivileged && FileSystem.exists(cacheDirectory + "/config-user") ? "/config-user" : "/config")
        return try TemplateConfig.settings(of: try FileSystem.readText(file), source: file)
    }

}
