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

    /// The directory to use, or why swrun cannot use this rootfs yet.
    func directory() throws(ValueError) -> String {
        guard backend == "dir" else {
            throw ValueError("the '\(backend)' storage backend is not supported yet",
                             hint: "swrun starts directory and overlay rootfs: put the root filesystem in a directory and set lxc.rootfs.path = dir:/path/to/rootfs")
        }
        return path
    }
}
