import CLinux
import Glibc
import SwrunSystem

/// Each OCI layer unpacked once, by its diff_id, into a directory of the cache that every
/// image and container using it shares as an overlayfs lower layer:
///   ROOT/oci/layers/sha256/HEX        the layer's files, whiteouts as overlayfs marks them
///   ROOT/oci/layers/users/KEY         one container's layers, while its config names them
/// A layer is unpacked into a directory of its own and renamed into place whole, so a crash
/// or a second create unpacking the same layer at once never leaves half a layer in use.
public struct LayerStore: Sendable {
    let store: OCIStore

    public init(store: OCIStore) {
        self.store = store
    }

    var directory: String { store.root + "/oci/layers" }
    var layers: String { directory + "/sha256" }
    var users: String { directory + "/users" }

    public func path(of diffID: String) -> String { layers + "/" + diffID.dropFirst("sha256:".count) }

    /// A text file as the layers (topmost first) show it together: from the topmost that has
    /// it, unless one above hides it (a whiteout, or an opaque directory).
    static func file(_ path: String, in layers: [String]) -> String? {
        let parent = FileSystem.parentPath(path)
        for layer in layers {
            var status = stat()
            if lstat(layer + path, &status) == 0 && status.st_mode & S_IFMT == S_IFCHR && status.st_rdev == 0 { return nil }
            if let text = RootfsFile.read(path, in: layer) { return text }
            var mark: [UInt8] = [0]
            if getxattr(layer + parent, "trusted.overlay.opaque", &mark, 1) == 1 && mark[0] == UInt8(ascii: "y") { return nil }
        }
        return nil
    }

    /// Whether `path` is a layer of this store.
    public func holds(_ path: String) -> Bool { FileSystem.parentPath(path) == layers }

    /// The unpacked directories of `manifest`'s layers, lowest first, each unpacked now where
    /// it is missing and checked against its diff_id as it unpacks. The caller holds the
    /// store's use lock, so that no prune takes them before they are recorded as in use.
    func unpack(_ manifest: ImageManifest, diffIDs: [String], image: String, report: @escaping (String) -> Void) throws(SwrunError) -> [String] {
        try FileSystem.makeDirectories(layers, mode: 0o700)
        var paths: [String] = []
        for (index, layer) in manifest.layers.enumerated() {
            let target = path(of: diffIDs[index])
            paths.append(target)
            if FileSystem.isDirectory(target) { continue }
            let position = "layer \(index + 1)/\(manifest.layers.count) (\(layer.digest.prefix(19)))"
            report("unpacking \(position) into the layer store")
            let partial = layers + "/.partial-\(getpid())-" + diffIDs[index].dropFirst("sha256:".count).prefix(12)
            try? FileSystem.removeTree(partial)
            try FileSystem.makeDirectory(partial, mode: 0o755)
            do throws(SwrunError) {
                let unpacker = try RootfsUnpacker(rootfs: partial, options: .init(whiteouts: .overlay), warn: { report("warning: \($0)") })
                let blob = store.blobPath(layer.digest)
                let source = DigestingSource(try store.opener.open(blob))
                try unpacker.unpack(source, name: blob)
                let actual = try source.finish()
                guard actual == diffIDs[index] else {
                    throw SwrunError(.verificationFailed, "\(position) of \(image) unpacks to \(actual), but the image config says its diff_id is \(diffIDs[index])",
                                     hint: "the image is damaged or was tampered with; remove it with `swrun image rm \(image)` and pull it again")
                }
                // Another create may have unpacked the same layer meanwhile: the first one stays.
                if rename(partial, target) != 0 {
                    guard errno == EEXIST || errno == ENOTEMPTY else { throw SwrunError.system("cannot move the layer into \(target)", Errno.current) }
                    try FileSystem.removeTree(partial)
                }
            } catch {
                try? FileSystem.removeTree(partial)
                throw error
            }
        }
        return paths
    }

    /// Records that the container in `containerDirectory` is made of `layers`, until its
    /// config is gone (destroy) or names them no more.
    public func recordUser(_ containerDirectory: String, layers paths: [String]) throws(SwrunError) {
        try FileSystem.makeDirectories(users, mode: 0o700)
        let text = ([containerDirectory] + paths).joined(separator: "\n") + "\n"
        try FileSystem.writeAtomically(users + "/" + Self.key(containerDirectory), text, mode: 0o600)
    }

    /// The layer directories some container still uses; the records of containers that are
    /// gone, or whose config names other layers now, are removed on the way.
    func layersInUse() -> Set<String> {
        var inUse: Set<String> = []
        for name in (try? FileSystem.listDirectory(users)) ?? [] {
            let record = users + "/" + name
            let lines = ((try? FileSystem.readText(record)) ?? "").split(separator: "\n").map(String.init)
            guard let container = lines.first,
                  let config = try? FileSystem.readText(container + "/config") else {
                unlink(record)
                continue
            }
            let named = lines.dropFirst().filter { config.contains($0) }
            if named.isEmpty { unlink(record) } else { inUse.formUnion(named) }
        }
        return inUse
    }

    /// Removes the layers that neither an image in `live` (diff_ids) nor a container uses,
    /// and what a crashed unpack left. Runs under the store's exclusive lock.
    func prune(keeping live: Set<String>) throws(SwrunError) {
        let used = layersInUse()
        for name in (try? FileSystem.listDirectory(layers)) ?? [] {
            let path = layers + "/" + name
            if name.hasPrefix(".partial-") || (!live.contains("sha256:" + name) && !used.contains(path)) {
                try FileSystem.removeTree(path)
            }
        }
    }

    /// A file name for a container's directory: its name and a hash of the whole path.
    static func key(_ containerDirectory: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in containerDirectory.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let name = containerDirectory.split(separator: "/").last.map(String.init) ?? "container"
        return name + "-" + String(hash, radix: 16)
    }
}
