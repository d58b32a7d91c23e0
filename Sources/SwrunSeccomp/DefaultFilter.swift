/// swrun's default filter, for a container whose config names no seccomp profile: at least
/// what LXC's common.seccomp denies, and the calls a container has no business with.
/// Every denied call fails with EPERM, except where noted.
public enum DefaultFilter {
    static let eperm: SeccompAction = .errno(1)
    static let cloneNewUser: UInt32 = 0x1000_0000   // CLONE_NEWUSER
    static let fileTypeMask: UInt32 = 0o170000      // S_IFMT
    static let blockDevice: UInt32 = 0o060000       // S_IFBLK
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
        // Block devices: a node for the host's disk would read it raw. Both the legacy and the *at form.
        deny("mknod", eperm, .init(index: 1, mask: fileTypeMask, value: blockDevice))
        deny("mknodat", eperm, .init(index: 2, mask: fileTypeMask, value: blockDevice))
        // reject_force_umount, as in common.seccomp.
        deny("umount2", .errno(13), .init(index: 1, mask: forceUnmount, value: forceUnmount))
        if !allowNesting {
            deny("unshare", eperm, .init(index: 0, mask: cloneNewUser, value: cloneNewUser))
            deny("clone", eperm, .init(index: 0, mask: cloneNewUser, value: cloneNewUser))
            // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes libc fall back to clone.
            deny("clone3", .errno(38))
        }
        return SeccompFilter(defaultAction: .allow, rules: rules)
    }
}
