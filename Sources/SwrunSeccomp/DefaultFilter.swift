/// swrun's default filter, for a container whose config names no seccomp profile: at least
/// what LXC's common.seccomp denies, and the calls a container has no business with.
/// Every denied call fails with EPERM, except where noted.
public enum DefaultFilter {
    static let eperm: SeccompAction = .errno(1)
    static let cloneNewUser: UInt32 = 0x1000_0000   // CLONE_NEWUSER
    static let fileTypeMask: UInt32 = 0o170000      // S_IFMT
    static let blockDevice: UInt32 = 0o060000       // S_IFBLK
    static let characterDevice: UInt32 = 0o020000   // S_IFCHR
    static let forceUnmount: UInt32 = 1             // MNT_FORCE

    /// The filter. `allowNesting` (lxc.seccomp.allow_nesting) lets the container make user
    /// namespaces, as a nested container runtime needs.
    public static func filter(allowNesting: Bool = false) -> SeccompFilter {
        var rules: [SeccompFilter.Rule] = []
        func deny(_ name: String, _ action: SeccompAction = eperm, _ test: SeccompFilter.ArgumentTest? = nil) {
            guard let number = SyscallTable.x86_64[name] else { return }
            rules.append(.init(name: name, number: number, action: action, test: test))
        }
        // Kernel code and the host's kernel: modules, kexec.
        for name in ["init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load"] { deny(name) }
        // Reaching host files by handle (the "shocker" escape), the host's keyrings, kernel log,
        // eBPF, perf, swap, accounting, raw I/O ports.
        for name in ["open_by_handle_at", "add_key", "request_key", "keyctl", "syslog", "bpf", "perf_event_open",
                     "userfaultfd", "swapon", "swapoff", "acct", "iopl", "ioperm", "lookup_dcookie"] { deny(name) }
        // Device nodes: one for the host's disk (block, or a SCSI generic character device) would
        // reach it raw, and swrun does not restrict devices through a cgroup yet. The runtime
        // makes the standard nodes itself; FIFOs, sockets and files can still be made.
        // Both the legacy and the *at form.
        for type in [blockDevice, characterDevice] {
            deny("mknod", eperm, .init(index: 1, mask: fileTypeMask, value: type))
            deny("mknodat", eperm, .init(index: 2, mask: fileTypeMask, value: type))
        }
        rules.append(SeccompFilter.Rule.rejectForceUmount)
        if !allowNesting {
            deny("unshare", eperm, .init(index: 0, mask: cloneNewUser, value: cloneNewUser))
            deny("clone", eperm, .init(index: 0, mask: cloneNewUser, value: cloneNewUser))
            // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes libc fall back to clone.
            deny("clone3", .errno(38))
        }
        return SeccompFilter(defaultAction: .allow, rules: rules)
    }
}
