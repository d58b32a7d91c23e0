import CLinux
import Glibc
import SwrunConfig
import SwrunSystem

/// A user namespace with a container's id maps and no process in it, for idmapped mounts
/// (MOUNT_ATTR_IDMAP wants one as an fd): a child unshares it and waits, swrun writes its maps,
/// opens it, and lets the child go, as crun and podman make theirs.
enum MappedUserNamespace {
    static func open(_ maps: [IDMap]) throws(SwrunError) -> Int32 {
        var ready: [Int32] = [-1, -1], release: [Int32] = [-1, -1]
        guard swrun_pipe_cloexec(&ready) == 0 else { throw SwrunError.system("cannot make a pipe", Errno.current) }
        guard swrun_pipe_cloexec(&release) == 0 else {
            close(ready[0]); close(ready[1])
            throw SwrunError.system("cannot make a pipe", Errno.current)
        }
        var byte: UInt8 = 0
        fflush(nil)
        let pid = fork()
        if pid == 0 {
            // Raw calls only: unshare, say so, wait for the parent to be done (its end of the
            // pipe closing: so this copy of that end must go first), go.
            close(release[1])
            close(ready[0])
            let result: UInt8 = swrun_unshare(Int32(truncatingIfNeeded: SWRUN_CLONE_NEWUSER)) == 0 ? 1 : 0
            var answer = result
            _ = write(ready[1], &answer, 1)
            _ = read(release[0], &answer, 1)
            _exit(0)
        }
        close(ready[1])
        close(release[0])
        defer {
            close(ready[0])
            close(release[1])  // the child's read returns: it exits
            if pid > 0 { var status: Int32 = 0; _ = waitpid(pid, &status, 0) }
        }
        guard pid > 0 else { throw SwrunError.system("cannot fork for a user namespace", Errno.current) }
        guard read(ready[0], &byte, 1) == 1, byte == 1 else {
            throw SwrunError(.system, "cannot make a user namespace for the idmapped layers", hint: "the kernel needs user namespaces")
        }
        for (kind, file) in [(IDMap.Kind.uid, "uid_map"), (IDMap.Kind.gid, "gid_map")] {
            let lines = maps.filter { $0.kind == kind }.map { "\($0.containerID) \($0.hostID) \($0.count)\n" }.joined()
            try FileSystem.writeExisting("/proc/\(pid)/\(file)", lines, hint: "check lxc.idmap")
        }
        let fd = Glibc.open("/proc/\(pid)/ns/user", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SwrunError.system("cannot open the user namespace of the idmapped layers", Errno.current) }
        return fd
    }
}
