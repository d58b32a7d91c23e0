import CLinux
import Glibc
import SwrunCgroups
import SwrunSystem

/// A running container as attach finds it on the host, before anything is forked: a pidfd
/// on its init, what its processes run with, the namespaces and cgroups to enter. All of it
/// from the running container, none from its config. Closes its fds when it goes.
final class AttachSource {
    let initProcess: ProcessIdentity
    let pidfd: Int32
    let profile: ProcessProfile
    let namespaces: (flags: UInt64, names: [String])
    private(set) var cgroupFDs: [Int32] = []

    convenience init(store: ContainerStore, name: String, explainer: Explainer) throws(SwrunError) {
        try store.requireExisting(name)
        let status = store.status(of: name)
        guard status.state == .running, let record = status.record, let initProcess = record.initProcess else {
            throw SwrunError(.notFound, "container '\(name)' is not running",
                             hint: "start it with `swrun start -n \(name) -P \(store.lxcPath)`, or use `swrun execute` for a one-off command")
        }
        try self.init(initProcess: initProcess, directory: store.directory(of: name), cgroups: store.ownCgroups(of: name, in: record),
                      name: name, explainer: explainer)
    }

    /// The container whose init is `initProcess`, its profile in `directory`, its cgroups (and
    /// `taskFiles`, further groups' files that a process joins by writing "0": resctrl's).
    init(initProcess: ProcessIdentity, directory: String, cgroups: [String], taskFiles: [String] = [], name: String,
         explainer: Explainer) throws(SwrunError) {
        self.initProcess = initProcess
        pidfd = try initProcess.openPidFD()
        explainer.say("pidfd_open(\(initProcess.pid))", "the container's init, held so that a recycled pid cannot pass for it while swrun reads /proc/\(initProcess.pid)")
        do throws(SwrunError) {
            profile = try ProcessProfile.load(fromContainer: directory, name: name, initProcess: initProcess)
            try Self.requireKnownSecurityLabel(of: initProcess.pid, container: name, appArmorProfile: profile.appArmorProfile)
            namespaces = try InitNamespaces.differing(of: initProcess.pid)
        } catch {
            close(pidfd)
            throw error
        }
        // The container's cgroup files, opened while host paths resolve: the first child joins
        // them, so that the command is born in them; swrun stays outside its limits.
        for file in try cgroups.map(ContainerCgroup.joinFile) + taskFiles {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw SwrunError.system("cannot open \(file) of container '\(name)'", Errno.current) }
            cgroupFDs.append(fd)
        }
    }

    deinit {
        close(pidfd)
        for fd in cgroupFDs { close(fd) }
    }

    /// Init's root, through which swrun reads the container's files and opens its pty.
    var root: String { "/proc/\(initProcess.pid)/root" }

    var target: AttachTarget {
        AttachTarget(pidfd: pidfd, namespaces: namespaces.flags, namespaceNames: namespaces.names.joined(separator: "|"), cgroupFDs: cgroupFDs)
    }

    /// What was read through /proc/PID was init's only if init still runs now.
    func requireStillRunning() throws(SwrunError) {
        guard swrun_pidfd_send_signal(pidfd, 0) == 0 else {
            throw SwrunError(.notFound, "the container stopped while swrun attached to it (init \(initProcess.pid) is gone)")
        }
    }

    /// swrun sets no LSM label on a container but the AppArmor profile of its config, which
    /// the attached command changes to as it execs too. Should init run under another label,
    /// attach cannot enter it, and refuses rather than run the command outside it.
    static func requireKnownSecurityLabel(of pid: pid_t, container: String, appArmorProfile: String?) throws(SwrunError) {
        let own = try? FileSystem.readText("/proc/self/attr/current")
        let theirs = try? FileSystem.readText("/proc/\(pid)/attr/current")
        guard own != theirs, let label = theirs?.trimmingCharacters(in: " \n\0") else { return }
        // AppArmor shows "PROFILE (enforce)" or "PROFILE (complain)".
        if let appArmorProfile, label == appArmorProfile || label.hasPrefix(appArmorProfile + " (") { return }
        throw SwrunError(.containerSetup, "container '\(container)' runs under the security label '\(label)', which swrun attach cannot enter",
                         hint: "run the command through the container's console instead: swrun console -n \(container)")
    }
}
