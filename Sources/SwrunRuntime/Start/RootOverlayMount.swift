import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// Mounts a container's overlay rootfs (its image's layers under its own upper directory) for
/// the start under way. The mount is made in a mount namespace of this process's own, so the
/// container (whose namespace is a copy) and this swrun (which writes /etc/hosts into it) see
/// it, the host never does, and it goes when this process does, crash or not.
enum RootOverlayMount {
    /// The most mount(2) takes as its data: one page, with its terminating zero.
    static let maximumData = 4095

    static func mount(_ overlay: RootOverlay, at rootfs: String) throws(SwrunError) {
        for lower in overlay.lowers where !FileSystem.isDirectory(lower) {
            throw SwrunError(.notFound, "the rootfs layer \(lower) is missing",
                             hint: "the image's layers were removed from the cache; create the container again from its image")
        }
        // What LXC makes at its first mount, made here too (a container copied by hand).
        for directory in [overlay.upper, overlay.work, rootfs] { try FileSystem.makeDirectories(directory, mode: 0o755) }
        let data = overlay.mountData
        guard data.utf8.count <= maximumData else {
            throw SwrunError(.invalidConfig, "the overlay of \(overlay.lowers.count) layers names more than mount(2) takes (\(maximumData) bytes)",
                             hint: "flatten the image (swrun export, then import), or create the container with -B dir")
        }
        guard swrun_unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWNS)) == 0 else {
            throw SwrunError.system("cannot make a mount namespace for the overlay rootfs", Errno.current)
        }
        // A copy of the host's mounts that sends nothing back.
        guard Glibc.mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw SwrunError.system("cannot make swrun's mounts private", Errno.current)
        }
        guard Glibc.mount("overlay", rootfs, "overlay", 0, data) == 0 else {
            let error = Errno.current
            throw SwrunError.system("cannot mount the overlay rootfs on \(rootfs) (\(data))", error, hint: hint(for: error, overlay))
        }
    }

    /// Before the process goes on to other work (`run --rm` destroys the container next).
    static func unmount(at rootfs: String) {
        _ = umount2(rootfs, Int32(MNT_DETACH))
    }

    private static func hint(for error: Errno, _ overlay: RootOverlay) -> String {
        switch error {
        case Errno(rawValue: ENODEV): "this kernel has no overlayfs (CONFIG_OVERLAY_FS); create the container with -B dir"
        case Errno(rawValue: EINVAL): "the upper directory \(overlay.upper) is on a filesystem overlayfs cannot write to (an overlay, or NFS); put LXCPATH elsewhere or use -B dir"
        default: "check that the layers and \(overlay.upper) exist and are directories"
        }
    }
}
