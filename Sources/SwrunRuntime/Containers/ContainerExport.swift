import Glibc
import SwrunSystem

/// `swrun export` (docker export): a container's files as one tar archive, as the container
/// sees them: a running one through its init's root, a stopped one as ContainerFiles gives
/// them (an overlay's layers merged, a loop image mounted).
/// Owners stay numeric and extended attributes come along; no other filesystem is entered,
/// so a running container's /proc, /sys and /dev are left out.
public enum ContainerExport {
    public static func export(_ name: String, of store: ContainerStore, to output: Int32) throws(SwrunError) {
        try store.requireExisting(name)
        let status = store.status(of: name)
        if let pid = status.initPID {
            return try archive(root: "/proc/\(pid)/root", to: output, running: true)
        }
        try ContainerFiles.withFiles(of: try store.config(of: name), in: store.directory(of: name), scratch: ".export") { (root) throws(SwrunError) in
            try archive(root: root, to: output)
        }
    }

    /// GNU tar: pax format for the attributes, without the access and change times that
    /// would make every archive differ. Files of a running container may change as they are
    /// read; tar's status 1 says so, and that archive is still whole.
    static func archive(root: String, to output: Int32, running: Bool = false) throws(SwrunError) {
        let argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--pax-option=delete=atime,delete=ctime",
                    "--one-file-system"] + (running ? ["--warning=no-file-changed"] : []) + ["-C", root, "-cf", "-", "."]
        let pid: pid_t
        do { pid = try Subprocess.spawn(argv, stdout: .fd(output)) } catch {
            throw SwrunError.system("cannot run tar to export \(root)", error, hint: "install tar")
        }
        let status = try waitForProcess(pid)
        guard status == .exited(0) || (running && status == .exited(1)) else {
            throw SwrunError(.system, "tar of \(root) \(status)", hint: "see tar's message above; the output may be full or unwritable")
        }
    }
}
