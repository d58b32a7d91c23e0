import CLinux
import Glibc
import SwrunSystem

/// lxc.namespace.share.KIND: namespaces a container joins instead of making its own, as
/// containers of a pod share one network. Each is opened in the parent before the clone
/// (/proc/PID/ns/KIND of the other container's init, or of a process), init joins them with
/// setns as its first step, and the parent closes them once init exists.
final class SharedNamespaces {
    struct Namespace {
        let kind: String
        let flag: UInt64
        /// Where it was opened from, for messages: /proc/1234/ns/net.
        let path: String
        let fd: Int32
    }

    let all: [Namespace]

    /// What may be joined. LXC's lxc.namespace.share names net, uts and ipc; an OCI bundle's
    /// namespace paths may also name a mount, cgroup, pid, time or user namespace. A pid namespace
    /// is joined by swrun before the clone (it holds for children only), a user namespace by a
    /// helper that clones init from inside it, the others by init.
    static let flags: [String: UInt64] = ["net": SWRUN_CLONE_NEWNET, "uts": SWRUN_CLONE_NEWUTS, "ipc": SWRUN_CLONE_NEWIPC,
                                          "mnt": SWRUN_CLONE_NEWNS, "cgroup": SWRUN_CLONE_NEWCGROUP, "pid": SWRUN_CLONE_NEWPID,
                                          "time": SWRUN_CLONE_NEWTIME, "user": SWRUN_CLONE_NEWUSER]

    /// The pid namespace to join, if any: entered by swrun itself right before the clone.
    var pid: Namespace? { all.first { $0.kind == "pid" } }

    /// The user namespace to join, if any: entered by a helper process that then clones init,
    /// so that the namespaces init gets are made inside it (their owner).
    var user: Namespace? { all.first { $0.kind == "user" } }

    /// Opens `shares` (kind -> a container's name in `lxcPath`, a pid, or a container's
    /// directory); an error names the key and what it found. Nothing stays open on error.
    init(_ shares: [String: String], lxcPath: String) throws(SwrunError) {
        var opened: [Namespace] = []
        do throws(SwrunError) {
            for (kind, target) in shares.sorted(by: { $0.key < $1.key }) {
                guard let flag = Self.flags[kind] else { continue }
                // A namespace file (an OCI bundle's path: /proc/PID/ns/net, a bind-mounted
                // /run/netns/NAME) is opened as it is; anything else names a process.
                let isFile = target.hasPrefix("/") && FileSystem.exists(target) && !FileSystem.isDirectory(target)
                let key = isFile ? "the \(kind) namespace \(target)" : "lxc.namespace.share." + kind
                let path = isFile ? target : "/proc/\(try Self.process(target, key: key, lxcPath: lxcPath))/ns/\(kind)"
                let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw SwrunError.system("\(key): cannot open \(path)", Errno.current,
                                            hint: "the process must live, and swrun needs root to join its namespaces")
                }
                opened.append(Namespace(kind: kind, flag: flag, path: path, fd: fd))
            }
        } catch {
            for namespace in opened { Glibc.close(namespace.fd) }
            throw error
        }
        all = opened
    }

    private var closed = false

    deinit { close() }

    /// Closes the namespaces: the parent's copies once init holds its own.
    func close() {
        guard !closed else { return }
        closed = true
        for namespace in all { Glibc.close(namespace.fd) }
    }

    func shares(_ kind: String) -> Bool { all.contains { $0.kind == kind } }
    var flags: UInt64 { all.reduce(0) { $0 | $1.flag } }

    /// The process whose namespace `target` names: a pid, or the init of a running container,
    /// by name (in `lxcPath`) or by its directory (LXC's /opt/c3 form).
    static func process(_ target: String, key: String, lxcPath: String) throws(SwrunError) -> pid_t {
        if let pid = pid_t(target), pid > 0 {
            guard ProcessIdentity.of(pid) != nil else {
                throw SwrunError(.notFound, "\(key): no process \(pid)", hint: "give a running process, or a container's name")
            }
            return pid
        }
        var directory = target
        while directory.count > 1 && directory.hasSuffix("/") { directory.removeLast() }
        let (path, name) = directory.hasPrefix("/") ? (FileSystem.parentPath(directory), FileSystem.lastComponent(directory)) : (lxcPath, directory)
        let store = ContainerStore(lxcPath: path)
        guard FileSystem.isDirectory(store.directory(of: name)) else {
            throw SwrunError(.notFound, "\(key): there is no container '\(name)' in \(path)",
                             hint: "name a container of this LXCPATH, a container's directory, or a pid")
        }
        let status = store.status(of: name)
        guard status.state == .running, let pid = status.record?.initProcess?.pid else {
            throw SwrunError(.notFound, "\(key): container '\(name)' is not running, so it has no namespaces to share",
                             hint: "start it first: swrun start -n \(name) -P \(path)")
        }
        return pid
    }
}
