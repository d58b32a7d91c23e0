/// lxc.rootfs.path: "[BACKEND:]PATH", split at the first colon as LXC does.
struct RootfsSource: Equatable {
    /// LXC's storage backends (src/lxc/storage).
    static let backends = ["dir", "btrfs", "loop", "lvm", "nbd", "overlay", "overlayfs", "rbd", "zfs"]

    var backend: String
    var path: String

    static func parse(_ value: String) throws(ValueError) -> RootfsSource {
        guard let colon = value.firstIndex(of: ":") else { return RootfsSource(backend: "dir", path: value) }
        let backend = String(value[..<colon])
        if backends.contains(backend) {
            return RootfsSource(backend: backend, path: String(value[value.index(after: colon)...]))
        }
        // A plain absolute path that happens to contain a colon.
        if value.hasPrefix("/") { return RootfsSource(backend: "dir", path: value) }
        throw ValueError("'\(backend)' is not a storage backend",
                         hint: "write lxc.rootfs.path = dir:/path/to/rootfs, or just the absolute path")
    }

    var isOverlay: Bool { backend == "overlay" || backend == "overlayfs" }

    /// The filesystem to mount on the container's rootfs, for loop, lvm and zfs.
    func device() throws(ValueError) -> RootDevice? {
        switch backend {
        case "loop":
            guard path.hasPrefix("/") else { throw ValueError("a loop rootfs is the absolute path of an image file", hint: "write lxc.rootfs.path = loop:/var/lib/lxc/NAME/rootdev") }
            return .loop(image: path)
        case "lvm":
            guard path.hasPrefix("/dev/") else { throw ValueError("an lvm rootfs is a device under /dev", hint: "write lxc.rootfs.path = lvm:/dev/VG/LV") }
            return .block(device: path)
        case "zfs":
            guard !path.isEmpty, !path.hasPrefix("/") else { throw ValueError("a zfs rootfs is a dataset, POOL/NAME", hint: "write lxc.rootfs.path = zfs:POOL/lxc/NAME") }
            return .zfs(dataset: path)
        default:
            return nil
        }
    }

    /// The directory to use (a btrfs subvolume is one), or why swrun cannot use this rootfs.
    func directory() throws(ValueError) -> String {
        guard backend == "dir" || backend == "btrfs" else {
            throw ValueError("the '\(backend)' storage backend is not supported yet",
                             hint: "swrun starts dir, btrfs, overlay, loop, lvm and zfs rootfs: put the root filesystem in a directory and set lxc.rootfs.path = dir:/path/to/rootfs")
        }
        return path
    }
}
