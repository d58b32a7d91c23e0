import CLinux
import Glibc
import SwrunSystem

/// Another stage's (or image's) files as one read-only tree, for COPY --from: an overlay of
/// its layers with no upper directory, mounted in this process's own mount namespace (the
/// host never sees it), unmounted and removed after the copy.
enum BuildView {
    static func mount(_ lowers: [String], at target: String) throws(SwrunError) {
        try FileSystem.makeDirectories(target, mode: 0o700)
        guard !lowers.isEmpty else { return }  // FROM scratch with nothing in it: an empty tree
        guard swrun_unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWNS)) == 0,
              Glibc.mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw SwrunError.system("cannot make a mount namespace for the build", Errno.current)
        }
        let status: Int32
        if lowers.count == 1 {
            status = Glibc.mount(lowers[0], target, nil, MountFlags([.bind, .readOnly]).rawValue, nil)
        } else {
            status = Glibc.mount("overlay", target, "overlay", MountFlags.readOnly.rawValue, "lowerdir=" + lowers.joined(separator: ":"))
        }
        guard status == 0 else { throw SwrunError.system("cannot mount the stage's files on \(target)", Errno.current) }
    }

    static func unmount(_ target: String) {
        _ = umount2(target, Int32(MNT_DETACH))
        rmdir(target)
    }
}
