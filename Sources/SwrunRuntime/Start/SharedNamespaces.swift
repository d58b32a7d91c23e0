import CLinux
import Glibc
import SwrunSystem

/// lxc.namespace.share.KIND: namespaces a container joins instead of making its own, as
/// containers of a pod share one network. Each is opened in the parent before the clone
/// (/proc/PID/ns/KIND of the other container's init, or of a process); init joins them with
/// setns as its first step, except the pid namespace, which only the parent can hand on:
/// it enters it for the clone and goes back.
final class SharedNamespaces {
    struct Namespace {
        let kind: String
        let flag: UInt64
        /// Where it was opened from, for messages: /proc/1234/ns/net.
        let path: String
        let fd: Int32
    }

    let all: [Namespace]

    static let flags: [String: UInt64] = [
        "net": SWRUN_CLONE_NEWNET, "uts": SWRUN_CLONE_NEWUTS, "ipc": SWRUN_CLONE_NEWIPC,
        "pid": SWRUN_CLONE_NEWPID, "cgroup": SWRUN_CLONE_NEWCGROUP,
    ]

    /// Opens `shares` (kind -> a container's name in `lxcPath`, a pid, or a container's
    /// directory); an error names the key and what it found. Nothing stays open on error.
    init(_ shares: [String: String], lxcPath: String) throws(SwrunError) {
        var opened: [Namespace] = []
        do throws(SwrunError) {
            for (kind, target) in shares.sorted(by: { $0.key < $1.key }) {
                guard let flag = Self.flags[kind] else { continue }
                let pid = try Self.process(target, key: "lxc.namespace.share." + kind, lxcPath: lxcPath)
                let path = "/proc/\(pid)/ns/\(kind)"
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw SwrunError.system("lxc.namespace.share.\(kind): cannot open \(path)", Errno.current,
                                            hint: "the process must live, and swrun needs root to join its namespaces")
                }
                opened.append(Namespace(kind: kind, flag: flag, path: path, fd: fd))
            }
        } catch {
            for namespace in opened { close(namespace.fd) }
            throw error
        }
        all = opened
    }

    deinit { for namespace in all { close(namespace.fd) } }

    func shares(_ kind: String) -> Bool { all.contains { $0.kind == kind } }
    var flags: UInt64 { all.reduce(0) { $0 | $1.flag } }

    /// With a shared pid namespace, puts this process's next child into it (setns on a pid
    /// namespace moves only children); returns our own, to come back to, or -1.
    func enterPidNamespaceForChildren() throws(SwrunError) -> Int32 {
        guard let shared = all.first(where: { $0.kind == "pid" }) else { return -1 }
        let own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)
        if own < 0 { throw SwrunError.system("cannot open /proc/self/ns/pid", Errno.current) }
        guard swrun_setns(shared.fd, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWPID)) == 0 else {
            let error = Errno.current
            close(own)
            throw SwrunError.system("lxc.namespace.share.pid: cannot enter the pid namespace of \(shared.path)", error)
        }
        return own
    }

    /// Back to our own pid namespace for later children, after the clone.
    func leavePidNamespace(_ own: Int32) {
        guard own >= 0 else { return }
        _ = swrun_setns(own, Int32(truncatingIfNeeded: SWRUN_CLONE_NEWPID))
        close(own)
    }

    /// The process whose namespace `target` names: a pid, or the init of a running container,
    /// by name (in `lxcPath`) or by its directory (LXC's /opt/c3 form).
    static func process(_ target: String, key: String, lxcPath: String) throws(SwrunError) -> pid_t {
        if let pid = pid_t(target), pid > 0 {
            guard ProcessIdentity.of(pid) != nil else {
                throw SwrunError(.notFound, "\(key): no process \(pid)", hint: "give a running process, or a container's name")
            }
            return pid
        }
        let (path, name) = target.hasPrefix("/") ? (FileSystem.parentPath(target), FileSystem.lastComponent(target)) : (lxcPath, target)
        let store = ContainerStore(lxcPath: path)
        guard FileSystem.isDirectory(store.directory(of: name)) else {
            throw SwrunError(.notFound, "\(key): there is no container '\(name)' in \(path)",
                             hint: "name a container of this LXCPATH, a container's directory, or a pid")
        }
        guard let pid = store.status(of: name).record?.initProcess?.pid, store.status(of: name).state == .running else {
            throw SwrunError(.notFound, "\(key): container '\(name)' is not running, so it has no namespaces to share",
                             hint: "start it first: swrun start -n \(name) -P \(path)")
        }
        return pid
    }
}
