import CLinux
import Glibc
import SwrunConfig
import SwrunJSON
import SwrunSystem

/// A container from an OCI image: its layers unpacked in order with whiteouts applied,
/// and its config (Env, Entrypoint, Cmd, WorkingDir, User) turned into LXC keys.
public final class OCITemplate: RootfsTemplate {
    public let reference: ImageReference
    let store: OCIStore
    let caFile: String?
    let report: (String) -> Void
    private var manifest: ImageManifest?
    private var digest: String?
    /// The layer directories, topmost first, once `installLayers` has them.
    private var layerDirectories: [String] = []

    public init(reference: ImageReference, store: OCIStore, caFile: String? = nil, report: @escaping (String) -> Void) {
        self.reference = reference
        self.store = store
        self.caFile = caFile
        self.report = report
    }

    public var origin: String { "the OCI image \(reference)" + (digest.map { " (\($0))" } ?? "") }

    /// Pulls the image unless it is cached already.
    public func checkHost() throws(SwrunError) {
        if store.cachedManifest(orNil: reference) == nil { try store.pull(reference, caFile: caFile, report: report) }
        guard let cached = try store.cachedManifest(reference) else {
            throw SwrunError(.notFound, "the image \(reference) is not in the cache \(store.root)", hint: "pull it: swrun pull \(reference)")
        }
        (digest, manifest) = (cached.digest, cached.manifest)
    }

    /// The manifest checkHost found (it runs first when it has not yet).
    private func loadedManifest() throws(SwrunError) -> ImageManifest {
        if manifest == nil { try checkHost() }
        guard let manifest else {
            throw SwrunError(.notFound, "the image \(reference) is not in the cache \(store.root)", hint: "pull it: swrun pull \(reference)")
        }
        return manifest
    }

    /// Unpacks the layers lowest first, each checked against the config's rootfs.diff_ids
    /// (the SHA-256 of its uncompressed tar, hashed as it unpacks). A mismatch throws, and
    /// the container's creator removes the half-made rootfs.
    public func install(rootfs: String, name: String, report: @escaping (String) -> Void) throws(SwrunError) {
        let inUse = try store.useLock()
        defer { withExtendedLifetime(inUse) {} }
        let manifest = try loadedManifest()
        let diffIDs = try Self.diffIDs(try store.config(of: manifest), layers: manifest.layers.count, image: "\(reference)")
        let unpacker = try RootfsUnpacker(rootfs: rootfs, options: .init(whiteouts: .applied), warn: { report("warning: \($0)") })
        for (index, layer) in manifest.layers.enumerated() {
            let position = "layer \(index + 1)/\(manifest.layers.count) (\(layer.digest.prefix(19)))"
            report("unpacking \(position)")
            let path = store.blobPath(layer.digest)
            let source = DigestingSource(try store.opener.open(path))
            try unpacker.unpack(source, name: path)
            let actual = try source.finish()
            guard actual == diffIDs[index] else {
                throw SwrunError(.verificationFailed,
                                 "\(position) of \(reference) unpacks to \(actual), but the image config says its diff_id is \(diffIDs[index])",
                                 hint: "the image is damaged or was tampered with; remove it with `swrun image rm \(reference)` and pull it again")
            }
        }
    }

    /// The image's layers from the layer store (unpacked there where missing), topmost
    /// first, with the container recorded as their user so that no prune takes them.
    public func installLayers(for containerDirectory: String, report: @escaping (String) -> Void) throws(SwrunError) -> [String] {
        let inUse = try store.useLock()
        defer { withExtendedLifetime(inUse) {} }
        let manifest = try loadedManifest()
        let diffIDs = try Self.diffIDs(try store.config(of: manifest), layers: manifest.layers.count, image: "\(reference)")
        let layers = LayerStore(store: store)
        let paths = try layers.unpack(manifest, diffIDs: diffIDs, image: "\(reference)", report: report)
        // An image may name a layer twice: overlayfs takes each directory once.
        var seen: Set<String> = []
        layerDirectories = paths.reversed().filter { seen.insert($0).inserted }
        try layers.recordUser(containerDirectory, layers: layerDirectories)
        return layerDirectories
    }

    /// A file of the image as the container will see it: from the topmost layer that has it,
    /// unless a layer above hides it (a whiteout, or an opaque directory); from `rootfs` when
    /// the image was unpacked there instead.
    func imageFile(_ path: String, rootfs: String) -> String? {
        guard !layerDirectories.isEmpty else { return RootfsFile.read(path, in: rootfs) }
        return LayerStore.file(path, in: layerDirectories)
    }

    /// rootfs.diff_ids of an image config: one sha256 digest per layer, as the OCI image spec requires.
    static func diffIDs(_ config: JSONValue, layers: Int, image: String) throws(SwrunError) -> [String] {
        let ids = config["rootfs"]?["diff_ids"]?.array?.compactMap(\.string) ?? []
        guard ids.count == layers, ids.allSatisfy(ImageReference.isDigest) else {
            throw SwrunError(.verificationFailed,
                             "the config of \(image) lists \(ids.count) valid rootfs.diff_ids for its \(layers) layers",
                             hint: "the image is malformed; swrun checks every layer against its diff_id")
        }
        return ids
    }

    /// The image's run settings, for the container's sidecar (swrun.json).
    public func runConfig() throws(SwrunError) -> ImageRunConfig {
        ImageRunConfig(try store.config(of: try loadedManifest()))
    }

    /// `user` ("name", "uid", "name:group" ...) resolved in the image's /etc/passwd and /etc/group.
    public func account(_ user: String, rootfs: String) throws(SwrunError) -> ImageUser.Account {
        try ImageUser.resolve(user, passwd: imageFile("/etc/passwd", rootfs: rootfs), group: imageFile("/etc/group", rootfs: rootfs),
                              image: "\(reference)")
    }

    public func configSettings(rootfs: String) throws(SwrunError) -> [(key: String, value: String)] {
        let run = try runConfig()
        var settings = TemplateConfig.common.map { (key: $0.0, value: $0.1) }
        settings = settings.filter { $0.key != "lxc.tty.max" && $0.key != "lxc.pty.max" } + [(key: "lxc.tty.max", value: "0"), (key: "lxc.pty.max", value: "16")]
        for variable in run.environment { settings.append((key: "lxc.environment", value: variable)) }
        if let directory = run.workingDirectory { settings.append((key: "lxc.init.cwd", value: directory)) }
        // As Docker: HOME and supplementary groups from the image's files, for its user or root.
        let account = try self.account(run.user ?? "0", rootfs: rootfs)
        if run.user != nil {
            settings.append((key: "lxc.init.uid", value: String(account.uid)))
            settings.append((key: "lxc.init.gid", value: String(account.gid)))
        }
        if !account.groups.isEmpty {
            settings.append((key: "lxc.init.groups", value: account.groups.map(String.init).joined(separator: ",")))
        }
        if let home = account.home, !run.environment.contains(where: { $0.hasPrefix("HOME=") }) {
            settings.append((key: "lxc.environment", value: "HOME=" + home))
        }
        // An application stops on SIGTERM (or the image's own signal), not on the SIGPWR that
        // LXC sends a system's init.
        let stopSignal = run.stopSignal.flatMap { SignalNames.parse($0) != nil ? $0 : nil } ?? "SIGTERM"
        settings.append((key: "lxc.signal.halt", value: stopSignal))
        // lxc.init.cmd splits at spaces; an argv with spaces inside lives in swrun.json only.
        let argv = run.argv
        if !argv.isEmpty && !argv.contains(where: { $0.contains(" ") || $0.isEmpty }) {
            settings.append((key: "lxc.init.cmd", value: argv.joined(separator: " ")))
        }
        return settings
    }
}

extension OCIStore {
    func cachedManifest(orNil reference: ImageReference) -> (digest: String, manifest: ImageManifest)? {
        (try? cachedManifest(reference)) ?? nil
    }
}
