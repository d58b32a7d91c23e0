import SwrunSystem

/// The process's I/O priority, CPU scheduling and (exec only) CPU affinity: set before its
/// credentials, while it still holds CAP_SYS_NICE, which real-time policies, negative nice
/// values and the real-time I/O class need.
extension StartPlan {
    /// `forksAfter`: the process forks once more before execve (exec's spawn into the pid
    /// namespace), where SCHED_FLAG_RESET_ON_FORK would undo the policy: it is raised after
    /// that fork instead (see planResetOnFork).
    func planScheduling(forksAfter: Bool = false) throws(SwrunError) {
        if let priority = profile.ioPriority {
            addPayload(.setIOPriority(priority.value), "set the I/O priority to \(priority.ioClass.name) \(priority.level) (process.ioPriority)",
                       call: "ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(\(priority.ioClass.name), \(priority.level)))",
                       why: "process.ioPriority: the class and level of the command's disk I/O")
        }
        guard var settings = profile.scheduler else { return }
        if forksAfter {
            if settings.policy == .deadline {
                // The kernel lets no SCHED_DEADLINE task fork (EAGAIN), and only CAP_SYS_NICE set the policy after.
                throw SwrunError(.invalidConfig, "process.scheduler: SCHED_DEADLINE cannot be given to an exec'd process: swrun forks it into the container's pid namespace after setting the policy, and the kernel lets no deadline task fork",
                                 hint: "run it with another policy, or make it the container's own process")
            }
            settings.flags &= ~SchedulerSettings.resetOnFork
        }
        addPayload(.setScheduler(settings), "set the scheduling policy to \(settings.description) (process.scheduler)",
                   call: "sched_setattr(0, {\(settings.description)}, 0)",
                   why: "process.scheduler: how the kernel schedules the command")
    }

    /// SCHED_FLAG_RESET_ON_FORK, raised once exec's last fork is made: raising it needs no
    /// privilege, with the policy and parameters kept as they are.
    func planResetOnFork() {
        guard let settings = profile.scheduler, settings.flags & SchedulerSettings.resetOnFork != 0 else { return }
        var keep = settings
        keep.flags = SchedulerSettings.resetOnFork | 0x08 | 0x10  // | SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_KEEP_PARAMS
        addPayload(.setScheduler(keep), "keep the scheduling policy from the command's children",
                   call: "sched_setattr(0, {SCHED_FLAG_RESET_ON_FORK|SCHED_FLAG_KEEP_POLICY|SCHED_FLAG_KEEP_PARAMS}, 0)",
                   why: "process.scheduler.flags: the command's own children start with the default policy")
    }

    /// execCPUAffinity.initial, before the process joins the container's cgroup (which may
    /// move it onto the cgroup's CPUs); `final` after.
    func planCPUAffinity(final: Bool) {
        guard let affinity = profile.execCPUAffinity, let list = final ? affinity.final : affinity.initial else { return }
        addPayload(.setCPUAffinity(arena.bytes(list.mask)), "run on CPUs \(list.text) (process.execCPUAffinity.\(final ? "final" : "initial"))",
                   call: "sched_setaffinity(0, {\(list.text)})",
                   why: final ? "process.execCPUAffinity.final: the CPUs of the process once in the container's cgroup"
                              : "process.execCPUAffinity.initial: the CPUs of the process before it joins the container's cgroup")
    }
}
