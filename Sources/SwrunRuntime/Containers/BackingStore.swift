import CLinux
import SwrunSystem

/// Where a container's rootfs lives (lxc-create's -B): a directory of its own files, or an
/// overlay of its image's shared layers under a directory of its own changes.
public enum BackingStore: String, Sendable, CaseIterable {
    case dir
    case overlay

    /// -B's value; LXC's "overlayfs" is the same store.
    public init(option value: String) throws(SwrunError) {
        switch value {
        case "dir": self = .dir
        case "overlay", "overlayfs": self = .overlay
        case "btrfs", "loop", "lvm", "zfs", "rbd", "nbd", "best":
            throw SwrunError(.invalidArgument, "-B \(value): swrun makes dir and overlay containers so far", hint: "use -B dir or -B overlay")
        default:
            throw SwrunError(.invalidArgument, "-B \(value) is not a backing store", hint: "use -B dir or -B overlay")
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
