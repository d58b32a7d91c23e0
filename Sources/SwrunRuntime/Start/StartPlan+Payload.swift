import CLinux
import Glibc
import SwrunConfig
import SwrunSeccomp
import SwrunSystem

/// The payload half of the plan: what the command's process does between fork and execve.
extension StartPlan {
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// common.conf's list, used when a config says nothing about capabilities.
    static let defaultCapDrop = ["mac_admin", "mac_override", "sys_time", "sys_module", "sys_rawio"]

    func planPayload() throws(SwrunError) {
        if request.mode == .attach { return try planAttachPayload() }
        addPayload(.resetInheritedState, "reset signal handling and the umask",
                   call: "sigprocmask(SIG_SETMASK, {}); signal(1..64, SIG_DFL); umask(022)",
                   why: "signals blocked or ignored by swrun must not stay that way in your command")
        if request.useTerminal {
            if request.mode == .boot && !spec.process.terminalIsControlling {
                addPayload(.attachConsole(controlling: false), "put init's stdio on the console", call: "dup2(console, 0/1/2)",
                           why: "as the kernel starts init: the console is its stdio, and its getty or shell makes it a controlling terminal")
            } else {
                planControllingTerminal()
            }
        }
        planBoundingSet()
        planCloseInheritedDescriptors()
        // Loading a filter needs CAP_SYS_ADMIN or no_new_privs. In execute mode init, still root,
        // loads it last in its setup. Otherwise a command that gives up root or CAP_SYS_ADMIN
        // without no_new_privs gets it before the switch, others just before execve.
        let seccompInInit = request.mode == .execute
        // lxc.hook.start runs under the filter, as with LXC: then it comes before the hook.
        let seccompEarly = !seccompInInit && (filterNeedsCapabilities || !spec.hooks.start.isEmpty)
        if seccompInInit || seccompEarly { planSeccomp(inInit: seccompInInit) }
        planHooks(spec.hooks.start, inContainer: true)
        try planScheduling()
        planCredentials()
        try planDirectory()
        if !seccompInInit && !seccompEarly { planSeccomp(inInit: false) }
        planExec(why: "the command replaces the forked process; PID 1 (swrun's init) stays to reap zombies and forward signals")
    }

    /// Whether the filter must be loaded while the process still holds CAP_SYS_ADMIN: it gives
    /// up root or that capability, and no_new_privs does not stand in.
    var filterNeedsCapabilities: Bool { !profile.keepsSysAdmin && !profile.noNewPrivileges }

    func planControllingTerminal() {
        addPayload(.attachConsole(controlling: true), "attach the console pty", call: "setsid(); ioctl(pty, TIOCSCTTY, 0); dup2(pty, 0/1/2)",
                   why: "the pty becomes the command's controlling terminal, so job control and Ctrl-C work inside")
    }

    func planBoundingSet() {
        let dropped = Capabilities.all & ~profile.keptCapabilities
        guard dropped != 0 else { return }
        let names = capabilityNames(dropped)
        addPayload(.dropBoundingSet(mask: dropped), "drop capabilities \(names)",
                   call: "prctl(PR_CAPBSET_DROP, cap) for \(names)",
                   why: "removed from the bounding set, these can never come back, not even through a setuid binary")
    }

    /// Groups, ids, the capability sets and no_new_privs, in the order the kernel allows.
    func planCredentials() {
        if let label = profile.appArmorProfile {
            addPayload(.changeProfileOnExec(path: c(AppArmor.execAttribute), fallback: c(AppArmor.legacyExecAttribute),
                                            request: arena.bytes(Array("exec \(label)".utf8))),
                       "confine the command with the AppArmor profile \(label)", call: "write(\"\(AppArmor.execAttribute)\", \"exec \(label)\")",
                       why: "lxc.apparmor.profile: the profile takes effect at execve; the kernel refuses the write if no such profile is loaded")
        }
        let (uid, gid) = (profile.uid, profile.gid)
        for limit in profile.resourceLimits {
            addPayload(.setResourceLimit(resource: limit.resource, soft: limit.soft, hard: limit.hard), "limit \(limit.name) to \(limit.soft)/\(limit.hard)",
                       call: "setrlimit(\(limit.name), {\(limit.soft), \(limit.hard)})", why: "process.rlimits, lxc.prlimit: the limit the command starts with")
        }
        if profile.additionalGroups.isEmpty {
            addPayload(.clearGroups, "drop supplementary groups", call: "setgroups(0, NULL)",
                       why: "the host's supplementary groups must not follow the command in")
        } else {
            let groups = arena.scratch(profile.additionalGroups.count * MemoryLayout<gid_t>.size).bindMemory(to: gid_t.self)
            for (index, group) in profile.additionalGroups.enumerated() { groups[index] = group }
            addPayload(.setGroups(UnsafeBufferPointer(groups)), "set the supplementary groups to \(profile.additionalGroups)",
                       call: "setgroups(\(profile.additionalGroups.count), \(profile.additionalGroups))", why: "process.user.additionalGids, lxc.init.groups")
        }
        if let sets = profile.capabilitySets, uid != 0, sets.permitted != 0 {
            addPayload(.keepCapabilities, "keep the permitted capabilities across the user switch", call: "prctl(PR_SET_KEEPCAPS, 1)",
                       why: "process.capabilities gives a user other than root capabilities: setresuid would clear them")
        }
        addPayload(.setGID(gid), "set the group id to \(gid)", call: "setresgid(\(gid), \(gid), \(gid))", why: "lxc.init.gid, process.user.gid")
        addPayload(.setUID(uid), "set the user id to \(uid)", call: "setresuid(\(uid), \(uid), \(uid))", why: "lxc.init.uid, process.user.uid")
        if let mode = profile.umask {
            addPayload(.setUmask(mode), "set the umask to \(String(mode, radix: 8))", call: "umask(0\(String(mode, radix: 8)))", why: "process.user.umask")
        }
        if let sets = profile.capabilitySets {
            addPayload(.setCapabilities(sets), "set the capability sets", call: "capset(effective, permitted, inheritable); prctl(PR_CAP_AMBIENT_RAISE, ...)",
                       why: "process.capabilities: each set as the bundle gives it, within the bounding set")
        } else if uid == 0 {
            addPayload(.limitCapabilities(keep: profile.keptCapabilities), "limit the capability sets",
                       call: "capset(effective=permitted=kept, inheritable=0); prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
                       why: "root in the container holds only the capabilities left in the bounding set")
        }
        if profile.noNewPrivileges {
            addPayload(.setNoNewPrivileges, "set no_new_privs", call: "prctl(PR_SET_NO_NEW_PRIVS, 1)",
                       why: "lxc.no_new_privs: execve can never grant more privileges (setuid bits and file capabilities are ignored)")
        }
    }

    /// Marked close-on-exec before any seccomp filter is loaded: close_range is newer than many
    /// profiles' allowlists (runc walks the fds with fcntl, which every profile allows).
    func planCloseInheritedDescriptors() {
        let preserved = spec.process.preservedFDs
        addPayload(.closeInheritedDescriptors(from: UInt32(3 + preserved)), "close inherited file descriptors",
                   call: "close_range(\(3 + preserved), ~0U, CLOSE_RANGE_CLOEXEC)",
                   why: preserved == 0 ? "no fd of swrun or the host survives the execve; only stdin, stdout and stderr do"
                                       : "no fd of swrun or the host survives the execve; stdio and the \(preserved) passed with --preserve-fds do")
    }

    func planDirectory() throws(SwrunError) {
        addPayload(.changeDirectory(c(profile.cwd)), "change directory to \(profile.cwd)", call: "chdir(\"\(profile.cwd)\")",
                   why: "lxc.init.cwd, a path inside the container")
        if let architecture = profile.linux32Architecture {
            try Self.requireLinux32(architecture)
            addPayload(.setPersonality(Self.perLinux32), "run as a 32-bit \(architecture) machine", call: "personality(PER_LINUX32)",
                       why: "lxc.arch = \(architecture): uname reports the 32-bit machine, as the image's programs expect")
        }
    }

    func planExec(why: String) {
        let environment = environmentVariables()
        let path = environment.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? Self.defaultPath
        execCandidates = Self.candidates(for: request.command[0], path: path)
        addPayload(.exec(candidates: arena.cStringArray(execCandidates), argv: arena.cStringArray(request.command),
                         envp: arena.cStringArray(environment)),
                   "run \(request.command[0])",
                   call: execCandidates.count == 1
                       ? "execve(\"\(execCandidates[0])\", \(request.command), [\(environment.count) variables])"
                       : "execve(DIR/\(request.command[0]), \(request.command), [\(environment.count) variables]) for each DIR of PATH=\(path) until one exists",
                   why: why)
    }

    static let perLinux32: UInt = 0x0008

    /// Whether this kernel takes the 32-bit personality (an arm64 CPU without AArch32 does
    /// not): tried here, in the parent, and set back.
    static func requireLinux32(_ architecture: String) throws(SwrunError) {
        let previous = swrun_personality(0xffff_ffff)
        guard swrun_personality(perLinux32) >= 0 else {
            throw SwrunError(.invalidConfig, "lxc.arch = \(architecture): this kernel cannot run 32-bit programs (it refuses PER_LINUX32)",
                             errno: Errno.current, hint: "use an image built for \(Architecture.hostMachine), or a host whose CPU and kernel run 32-bit code")
        }
        _ = swrun_personality(UInt(bitPattern: Int(previous)))
    }

    /// The seccomp filter of the profile: lxc.seccomp.profile when the config named one, else
    /// swrun's default.
    func planSeccomp(inInit: Bool) {
        guard !profile.seccompProgram.isEmpty else { return }
        let bytes = arena.bytes(profile.seccompProgram), count = UInt16(profile.seccompProgram.count / 8)
        let call = "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {\(count) BPF instructions})"
        if inInit {
            addSetup(.loadSeccomp(program: bytes, count: count), "load the seccomp filter", call: call,
                     why: profile.seccompSource + "\n(init loads it: it and your command are both under it)")
        } else if let listener = profile.seccompListener {
            addPayload(.loadSeccompWithListener(program: bytes, count: count), "load the seccomp filter and hand its notify fd to \(listener)",
                       call: "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, {\(count) BPF instructions})",
                       why: profile.seccompSource + "\n(the runtime sends the notify fd to the agent at linux.seccomp.listenerPath)")
        } else {
            addPayload(.loadSeccomp(program: bytes, count: count), "load the seccomp filter", call: call, why: profile.seccompSource)
        }
    }

    /// The executables to try: argv[0] itself when it has a slash, else each PATH directory in turn.
    static func candidates(for command: String, path: String) -> [String] {
        if command.contains("/") { return [command] }
        return path.split(separator: ":", omittingEmptySubsequences: false).map { directory in
            FileSystem.join(directory.isEmpty ? "." : String(directory), command)
        }
    }

    private func capabilityNames(_ mask: UInt64) -> String {
        (0...Capabilities.lastCapability).filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map(Capabilities.name).joined(separator: " ")
    }

    /// The payload's environment: a clean base (nothing of the host's unless asked for),
    /// then lxc.environment (as the profile has it), then the command line's overrides.
    private func environmentVariables() -> [String] {
        var variables: [(String, String)] = request.keepHostEnvironment ? request.hostEnvironment.sorted { $0.key < $1.key } : []
        func set(_ name: String, _ value: String) {
            variables.removeAll { $0.0 == name }
            variables.append((name, value))
        }
        // An OCI process's env is its whole environment; LXC's containers start from a base.
        if spec.process.usesDefaultEnvironment {
            set("PATH", Self.defaultPath)
            set("container", "lxc")
            set("HOME", profile.uid == 0 ? "/root" : "/")
            if request.useTerminal { set("TERM", request.hostTerm ?? "xterm") }
        }
        // A booted systemd starts a getty on each of these (container-getty@N), as under LXC.
        if request.mode == .boot && terminalCount > 1 {
            set("container_ttys", (1..<terminalCount).map { "pts/\($0)" }.joined(separator: " "))
        }
        for entry in profile.environment + request.environmentOverrides {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            set(String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
        }
        return variables.map { "\($0.0)=\($0.1)" }
    }

    /// The error for a payload step that failed: the command not found (127), not
    /// executable (126), or a step before it.
    func payloadFailure(step index: Int32, errno code: Int32) -> SwrunError {
        let step = payload[Int(index)]
        let errno = Errno(rawValue: code)
        guard case .exec = step.action else {
            return SwrunError(.containerSetup, "cannot start the command: cannot \(step.summary)", errno: errno)
        }
        let command = request.command[0]
        let searched = execCandidates.count == 1 ? execCandidates[0] : "PATH (\(execCandidates.joined(separator: ", ")))"
        if errno == .noSuchFileOrDirectory && request.mode == .boot {
            let source = spec.process.argsOrigin
            return SwrunError(.commandNotFound, "container '\(request.containerName)' has no init to boot: \(command) (\(source)) is not in its rootfs \(rootfs)",
                              hint: "install an init in the rootfs (systemd-sysv, sysvinit-core, busybox), or set lxc.init.cmd in \(request.containerDirectory)/config to the one it has")
        }
        if errno == .noSuchFileOrDirectory {
            return SwrunError(.commandNotFound, "command not found in container '\(request.containerName)': \(command) (looked for \(searched))",
                              hint: "check the name, or run `swrun execute -n \(request.containerName) -- /bin/sh` and look around")
        }
        // The command is there but cannot be run (Docker's 126), or swrun failed (125).
        let hint: String? = switch errno {
        case .permissionDenied: "make it executable (chmod +x) inside the rootfs"
        case .notPermitted: "it may carry file capabilities that the container's capability bounding set lacks (lxc.cap.drop)"
        case .execFormatError: "it is not a program for this machine (\(Architecture.hostMachine)), or a script without a #! line"
        default: nil
        }
        return SwrunError(hint == nil ? .containerSetup : .commandNotExecutable,
                          "cannot execute \(command) in container '\(request.containerName)' (looked for \(searched))", errno: errno, hint: hint)
    }
}
