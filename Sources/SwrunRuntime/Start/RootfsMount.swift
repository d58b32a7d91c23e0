import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// Mounts a container's rootfs where it is not a plain directory: an overlay (its image's
/// layers under its own upper directory), or a filesystem of its own (a loop image, an LVM
/// volume, a ZFS dataset). The mount is made in a mount namespace of this process's own, so
/// the container (whose namespace is a copy) and this swrun (which writes /etc/hosts into it)
/// see it, the host never does, and it goes when this process does, crash or not; a loop
/// device is attached with autoclear, so it goes with the mount.
enum RootfsMount {
    /// The most mount(2) takes as its data: one page, with its terminating zero.
    static let maximumData = 4095

    /// Mounts `overlay` on `rootfs`. With `idMaps` (an unprivileged container), a lower layer
    /// whose files are root's (an image's, unshifted) is seen through an idmapped mount of it,
    /// so that its root is the container's root: no copy, no chown of shared layers. Where the
    /// layer's filesystem refuses idmapped mounts, a copy of the layer shifted into the
    /// container's ids is made once in its own directory and used instead; `report` says so.
    static func mount(_ overlay: RootOverlay, at rootfs: String, idMaps: [IDMap] = [],
                      report: (String) -> Void = { _ in }) throws(SwrunError) {
        for lower in overlay.lowers where !FileSystem.isDirectory(lower) {
            throw SwrunError(.notFound, "the rootfs layer \(lower) is missing",
                             hint: "the image's layers were removed from the cache; create the container again from its image")
        }
        // What LXC makes at its first mount, made here too (a container copied by hand).
        for directory in [overlay.upper, overlay.work, rootfs] { try FileSystem.makeDirectories(directory, mode: 0o755) }
        try enterOwnMountNamespace()
        var mounted = overlay
        mounted.lowers = try idMapped(overlay, idMaps, report: report)
        let data = mounted.mountData
        guard data.utf8.count <= maximumData else {
            throw SwrunError(.invalidConfig, "the overlay of \(overlay.lowers.count) layers names more than mount(2) takes (\(maximumData) bytes)",
                             hint: "flatten the image (swrun export, then import), or create the container with -B dir")
        }
        guard Glibc.mount("overlay", rootfs, "overlay", 0, data) == 0 else {
            let error = Errno.current
            throw SwrunError.system("cannot mount the overlay rootfs on \(rootfs) (\(data))", error, hint: hint(for: error, overlay))
        }
    }

    /// Mounts a filesystem of the container's own on `rootfs`: its type read by trying the
    /// kernel's block filesystems in turn, as LXC does.
    static func mount(_ device: RootDevice, at rootfs: String) throws(SwrunError) {
        try FileSystem.makeDirectories(rootfs, mode: 0o755)
        try enterOwnMountNamespace()
        switch device {
        case .zfs(let dataset):
            guard Glibc.mount(dataset, rootfs, "zfs", 0, nil) == 0 else {
                throw SwrunError.system("cannot mount the ZFS dataset \(dataset) on \(rootfs)", Errno.current,
                                        hint: "check that the dataset exists (zfs list \(dataset)) and has mountpoint=legacy")
            }
        case .block(let path):
            try mountFilesystem(path, at: rootfs, described: "the volume \(path)")
        case .loop(let image):
            let loop = try LoopDevice.attach(image)
            defer { close(loop.fd) }  // the mount holds the device from here; autoclear detaches it after
            try mountFilesystem(loop.path, at: rootfs, described: "the image \(image) (\(loop.path))")
        }
    }

    private static func mountFilesystem(_ source: String, at target: String, described: String) throws(SwrunError) {
        let types = ((try? FileSystem.readText("/proc/filesystems")) ?? "").split(separator: "\n")
            .filter { !$0.hasPrefix("nodev") }.map { String($0.filter { $0 != "\t" && $0 != " " }) }.filter { !$0.isEmpty }
        var last = Errno(rawValue: EINVAL)
        for type in types {
            if Glibc.mount(source, target, type, 0, nil) == 0 { return }
            last = Errno.current
            if last != Errno(rawValue: EINVAL) && last != Errno(rawValue: ENODEV) { break }
        }
        throw SwrunError.system("cannot mount \(described) on \(target) (tried \(types.joined(separator: ", ")))", last,
                                hint: "check that it holds a filesystem this kernel knows")
    }

    /// A copy of the host's mounts that sends nothing back, for this process alone.
    private static func enterOwnMountNamespace() throws(SwrunError) {
        guard swrun_unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWNS)) == 0 else {
            throw SwrunError.system("cannot make a mount namespace for the container's rootfs", Errno.current)
        }
        guard Glibc.mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw SwrunError.system("cannot make swrun's mounts private", Errno.current)
        }
    }

    /// enterOwnMountNamespace, keeping the namespace left: returned open, for returnToMountNamespace.
    static func leaveMountNamespace() throws(SwrunError) -> Int32 {
        let left = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)
        guard left >= 0 else { throw SwrunError.system("cannot open this process's mount namespace (/proc/self/ns/mnt)", Errno.current) }
        do { try enterOwnMountNamespace() } catch {
            close(left)
            throw error
        }
        return left
    }

    /// Back to the namespace leaveMountNamespace left (and its fd closed): the start's own
    /// goes with all that was mounted in it, once nothing else is in it.
    static func returnToMountNamespace(_ namespace: Int32) {
        _ = swrun_setns(namespace, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWNS))
        close(namespace)
    }

    /// Where the idmapped views of an overlay's lowers are attached: beside its upper directory.
    static func idMappedDirectory(_ overlay: RootOverlay) -> String {
        FileSystem.join(FileSystem.parentPath(overlay.upper), "idmapped")
    }

    /// The lowers to mount: as they are, or (those owned by root, where the container's root is
    /// another host id) idmapped mounts of them under idMappedDirectory, in this namespace.
    private static func idMapped(_ overlay: RootOverlay, _ idMaps: [IDMap], report: (String) -> Void) throws(SwrunError) -> [String] {
        guard let root = idMaps.first(where: { $0.kind == .uid && $0.containerID == 0 }), root.hostID != 0 else { return overlay.lowers }
        let unshifted = overlay.lowers.map { lower -> Bool in
            var status = stat()
            return stat(lower, &status) == 0 && status.st_uid == 0
        }
        guard unshifted.contains(true) else { return overlay.lowers }
        let namespace = try MappedUserNamespace.open(idMaps)
        defer { close(namespace) }
        let directory = idMappedDirectory(overlay)
        var lowers: [String] = []
        for (index, lower) in overlay.lowers.enumerated() {
            guard unshifted[index] else {
                lowers.append(lower)
                continue
            }
            let target = FileSystem.join(directory, String(index))
            try FileSystem.makeDirectories(target, mode: 0o700)
            let tree = swrun_open_tree_clone(lower)
            guard tree >= 0 else { throw SwrunError.system("cannot clone the mount of the layer \(lower)", Errno.current) }
            defer { close(tree) }
            guard swrun_mount_set_idmap(tree, namespace) == 0 else {
                let error = Errno.current
                guard error == Errno(rawValue: EINVAL) || error == Errno(rawValue: EOPNOTSUPP) else {
                    throw SwrunError.system("cannot idmap the layer \(lower) for the container's ids", error,
                                            hint: "idmapped mounts need Linux 5.12 and a filesystem that takes them (ext4, xfs, btrfs; tmpfs from 6.3)")
                }
                lowers.append(try ShiftedLayer.copy(of: lower, for: overlay, idMaps: idMaps, because: error, report: report))
                continue
            }
            guard swrun_move_mount(tree, target) == 0 else { throw SwrunError.system("cannot attach the idmapped layer at \(target)", Errno.current) }
            lowers.append(target)
        }
        return lowers
    }

    /// Before the process goes on to other work (`run --rm` destroys the container next); an
    /// overlay's idmapped layers go too.
    static func unmount(at rootfs: String, overlay: RootOverlay? = nil) {
        _ = umount2(rootfs, Int32(MNT_DETACH))
        guard let overlay else { return }
        let directory = idMappedDirectory(overlay)
        for entry in (try? FileSystem.listDirectory(directory)) ?? [] { _ = umount2(FileSystem.join(directory, entry), Int32(MNT_DETACH)) }
    }

    private static func hint(for error: Errno, _ overlay: RootOverlay) -> String {
        switch error {
        case Errno(rawValue: ENODEV): "this kernel has no overlayfs (CONFIG_OVERLAY_FS); create the container with -B dir"
        case Errno(rawValue: EINVAL): "the upper directory \(overlay.upper) is on a filesystem overlayfs cannot write to (an overlay, or NFS); put LXCPATH elsewhere or use -B dir"
        default: "check that the layers and \(overlay.upper) exist and are directories"
        }
    }
}
