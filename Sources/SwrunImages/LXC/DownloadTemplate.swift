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
    /// Where an unverified download lies, for this container only; removed with the template.
    private var privateDirectory: String?

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

    deinit {
        if let privateDirectory { try? FileSystem.removeTree(privateDirectory) }
    }

    /// LXC_CACHE_PATH; else, where SWRUN_CACHE_PATH moves swrun's caches, its lxc/ (so that a
    /// test or a user with another disk has every image there); else LXC's own /var/cache/lxc.
    public static func defaultCacheRoot(environment: [String: String]) -> String {
        environment["LXC_CACHE_PATH"] ?? environment["SWRUN_CACHE_PATH"].map { $0 + "/lxc" } ?? "/var/cache/lxc"
    }

    /// Where `make install` puts the image servers' signing keys (packaging/keys).
    public static let shippedKeys = "/usr/share/swrun/keys"

    /// SWRUN_KEYS_DIR, or the installed keys.
    public static func defaultKeysDirectory(environment: [String: String]) -> String {
        environment["SWRUN_KEYS_DIR"] ?? shippedKeys
    }

    /// The keyring swrun ships for the server's host (KEYS/HOST.gpg), trusted for that server
    /// only, as apt's signed-by is: a key never vouches for another server's images.
    public var shippedKeyring: String? {
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

    /// Where the image's files are: the cache, or the private directory of an unverified download.
    var imageDirectory: String { privateDirectory ?? cacheDirectory }

    private var hostArch: String { LXCImageIndex.hostArchitecture(machine: Architecture.hostMachine) }

    // MARK: Fetching

    public func checkHost() throws(SwrunError) {
        // Nothing is downloaded for an image this host could not run.
        if let arch = options.arch, Architecture.personality(for: arch) == nil {
            throw SwrunError(.invalidArgument, "this \(Architecture.hostMachine) host cannot run \(arch) images (-a \(arch))",
                             hint: "choose -a \(hostArch)" + (hostArch == "amd64" ? ", or i386 for a 32-bit image" : ""))
        }
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
        let trust = try ImageTrust.decide(options, shippedKeyring: shippedKeyring, report: report)
        let server = LXCImageServer(base: options.server, caFile: options.caFile)
        report("looking for \(options.dist ?? "")/\(options.release ?? "")/\(options.arch ?? hostArch)/\(options.variant) on \(options.server)")
        let offered = try server.images { (index, url) throws(SwrunError) in
            try trust.verifyIndex(index, from: url, client: server.client, scratch: directory)
        }
        let found = try server.select(options, from: offered)
        image = found
        // The cache holds only verified files, so an unverified create may use them too.
        if cachedBuild == found.build && isComplete(directory) {
            report("using the cached image (build \(found.build)) in \(directory)")
            return
        }
        if trust.isVerified {
            try download(found, from: server, into: directory, trust: trust)
        } else {
            // Unverified files never enter the cache, where a later verified create would trust them.
            let own = directory + "/.unverified-\(getpid())"
            try FileSystem.removeTree(own)
            privateDirectory = own
            try fetch(found, from: server, into: own, trust: trust)
        }
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
    private func download(_ image: LXCImage, from server: LXCImageServer, into directory: String, trust: ImageTrust) throws(SwrunError) {
        let staging = directory + "/.download-" + image.build.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        try fetch(image, from: server, into: staging, trust: trust)
        for file in ["rootfs.tar.xz"] + Self.metaFiles where FileSystem.exists(staging + "/" + file) {
            if rename(staging + "/" + file, directory + "/" + file) != 0 {
                throw SwrunError.system("cannot move \(file) into the cache \(directory)", Errno.current)
            }
        }
        try FileSystem.writeAtomically(directory + "/build_id", image.build + "\n")
        try FileSystem.removeTree(staging)
    }

    /// Downloads the image's files into `staging` (resuming what is there), checks each as
    /// `trust` says, and takes meta.tar.xz apart there. A bad file never stays to be reused.
    private func fetch(_ image: LXCImage, from server: LXCImageServer, into staging: String, trust: ImageTrust) throws(SwrunError) {
        try FileSystem.makeDirectories(staging, mode: 0o700)
        let downloader = Downloader(client: server.client)
        for file in ["meta.tar.xz", "rootfs.tar.xz"] {
            let url = try server.url(image.directory + file)
            let target = staging + "/" + file
            report("downloading \(url)")
            do {
                if !FileSystem.exists(target) {
                    try downloader.download(url, to: target, expectedSHA256: trust.isVerified ? image.sha256[file] : nil,
                                            expectedSize: image.sizes[file], progress: DownloadProgress(name: file))
                }
                try trust.verifyFile(target, from: url, of: image, client: server.client)
            } catch where error.code == .verificationFailed {
                try? FileSystem.removeTree(staging)
                throw error
            }
        }
        try extractMeta(staging + "/meta.tar.xz", into: staging)
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
        let directory = imageDirectory
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

    /// The image's config (or config-user), from the cache: the rootfs has no say in it, and
    /// the image only over the keys `TemplateConfig` allows it.
    public func configSettings(rootfs: String) throws(SwrunError) -> [(key: String, value: String)] {
        let file = imageDirectory + (unprivileged && FileSystem.exists(imageDirectory + "/config-user") ? "/config-user" : "/config")
        let image = try TemplateConfig.imageSettings(of: try FileSystem.readText(file), source: file)
        if !image.leftOut.isEmpty {
            report("warning: the image's config sets \(image.leftOut.joined(separator: ", ")), left out of the container's config:"
                + " a downloaded image may set only \(TemplateConfig.imageKeys.sorted().joined(separator: ", ")) (lxc.tty.max up to"
                + " \(TemplateConfig.largestTTYCount)) and include LXC's common configs")
        }
        return image.settings
    }

}
