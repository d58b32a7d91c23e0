import SwrunConfig

/// The container's own time namespace, with its clocks' offsets.
extension StartPlan {
    /// Init makes it before anything runs in the container, and enters it itself: the command
    /// it forks or becomes, hooks inside the container and `exec` (which enters init's
    /// namespaces) all see the same clocks. In a user namespace (which then owns it) init does
    /// so before its ids are mapped and it becomes root inside: init is not dumpable, so its
    /// /proc/self files belong to the host's root, which only its unchanged host uid 0 may
    /// open for writing (the write itself needs CAP_SYS_TIME in the user namespace, which it has).
    func planTimeNamespace() {
        guard let offsets = spec.timeNamespace else { return }
        let text = offsets.fileText
        addSetup(.makeTimeNamespace(offsets: arena.bytes(Array(text.utf8)), offsetsFile: c("/proc/self/timens_offsets"),
                                    forChildren: c("/proc/self/ns/time_for_children")),
                 "make a time namespace with CLOCK_MONOTONIC \(Self.shown(offsets.monotonic)) and CLOCK_BOOTTIME \(Self.shown(offsets.boottime)) (linux.timeOffsets, lxc.time.offset.*)",
                 call: "unshare(CLONE_NEWTIME); write(\"/proc/self/timens_offsets\", \"\(text.split(separator: "\n").joined(separator: "\\n"))\\n\"); setns(open(\"/proc/self/ns/time_for_children\"), CLONE_NEWTIME)",
                 why: "the container's clocks run at these offsets from the host's (uptime counts from them); the kernel takes offsets only before the first process enters the namespace")
    }

    /// "+86400s", "-1.5s" as seconds and nanoseconds: "-2s+500000000ns".
    static func shown(_ offset: ClockOffset) -> String {
        let seconds = (offset.seconds >= 0 ? "+" : "") + "\(offset.seconds)s"
        return offset.nanoseconds == 0 ? seconds : seconds + "+\(offset.nanoseconds)ns"
    }
}
