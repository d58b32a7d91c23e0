import CLinux
import SwrunSystem

/// Where a container's rootfs lives (lxc-create's -B): a directory of its own files, or an
/// overlay of its image's shared layers under a directory of its own changes.
public enum BackingStore: String, Sendable, CaseIterable {
    case dir
    case overlay
    /// A btrfs subvolume (LXCPATH on btrfs); its snapshots are btrfs's.
    case btrfs
    /// An image file with a filesystem (--fstype, --fssize), on a loop device while it runs.
    case loop
    /// An LVM logical volume (--vgname, --lvname, --fstype, --fssize).
    case lvm
    /// A ZFS dataset below --zfsroot.
    case zfs

    /// -B's value; LXC's "overlayfs" is the same store.
    public init(option value: String) throws(SwrunError) {
        if value == "overlayfs" {
            self = .overlay
            return
        }
        guard let store = BackingStore(rawValue: value) else {
            throw SwrunError(.invalidArgument, "-B \(value) is not a backing store swrun makes",
                             hint: "use dir, overlay, btrfs, loop, lvm or zfs\(["rbd", "nbd", "best"].contains(value) ? " (LXC's \(value) is not made by swrun)" : "")")
        }
        self = store
    }

    static let btrfsMagic: Int64 = 0x9123_683E

    /// A btrfs store needs LXCPATH on btrfs.
    static func requireBtrfs(_ lxcPath: String) throws(SwrunError) {
        guard Int64(swrun_filesystem_type(lxcPath)) == btrfsMagic else {
            throw SwrunError(.invalidArgument, "-B btrfs needs \(lxcPath) on a btrfs filesystem", hint: "put LXCPATH (-P) on btrfs, or use -B dir, overlay or loop")
        }
    }

    static let overlayMagic: Int64 = 0x794c_7630

    /// Why containers in `lxcPath` cannot have an overlay rootfs on this host, or nil.
    static func overlayUnavailable(lxcPath: String) -> String? {
        let filesystems = (try? FileSystem.readText("/proc/filesystems")) ?? ""
        guard filesystems.split(separator: "\n").contains(where: { $0.hasSuffix("\toverlay") }) else {
            return "this kernel has no overlayfs (CONFIG_OVERLAY_FS)"
        }
        if Int64(swrun_filesystem_type(lxcPath)) == overlayMagic {
            return "\(lxcPath) is itself on overlayfs, which cannot hold a container's upper directory"
        }
        return nil
    }
}
