import Glibc
import SwrunConfig
import SwrunSystem

/// The fallback for a layer whose filesystem refuses idmapped mounts (ramfs, NFS, a kernel
/// before 5.12): a copy of it, shifted into an unprivileged container's host ids, kept in the
/// container's own directory (LXCPATH/NAME/overlay/shifted/LAYER) and used as that lower from
/// then on. It is made once, on the first start (or export, copy, commit) that needs it, and
/// goes with the container; the shared layer stays as it is.
enum ShiftedLayer {
    static func directory(_ overlay: RootOverlay) -> String {
        FileSystem.join(FileSystem.parentPath(overlay.upper), "shifted")
    }

    /// The shifted copy of `lower`: made now (under a partial name, renamed once whole), or the
    /// one an earlier start made.
    static func copy(of lower: String, for overlay: RootOverlay, idMaps: [IDMap], because error: Errno,
                     report: (String) -> Void) throws(SwrunError) -> String {
        let shifted = FileSystem.join(directory(overlay), lower.split(separator: "/").last.map(String.init) ?? "layer")
        if FileSystem.isDirectory(shifted) { return shifted }
        report("the layer \(lower) cannot be idmapped (\(error)): its filesystem does not take idmapped mounts;"
            + " copying it, shifted to the container's ids, into \(shifted) (once; the copy goes with the container)."
            + " Put the image cache (SWRUN_CACHE_PATH) on ext4, xfs, btrfs or tmpfs to share the layer instead")
        let partial = shifted + ".partial"
        try? FileSystem.removeTree(partial)
        try FileSystem.makeDirectories(partial, mode: 0o755)
        do {
            try TreeCopy.copy(lower, to: partial)
            try OwnershipShift.shift(partial, maps: idMaps)
        } catch {
            try? FileSystem.removeTree(partial)
            throw error
        }
        guard rename(partial, shifted) == 0 else { throw SwrunError.system("cannot rename \(partial) to \(shifted)", Errno.current) }
        return shifted
    }
}
