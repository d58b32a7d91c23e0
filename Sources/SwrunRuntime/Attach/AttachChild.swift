import CLinux
import Glibc

/// The processes swrun attach forks: the first walks the plan's payload up to
/// spawnInPidNamespace and exits there; the command's process walks the rest and execs.
/// Raw system calls only. A failing step is reported on `status` as (step index, errno); a
/// seccomp notify fd (OCI exec with linux.seccomp.listenerPath) goes to swrun on it too.
enum AttachChild {
    static func run(_ plan: StartPlan, console: Int32, status: Int32) -> Never {
        let executor = PayloadExecutor(calls: LinuxCalls(), consoleTerminal: console, lastCapability: plan.lastCapability, statusChannel: status,
                                       syncChannel: status)
        for index in plan.payload.indices {
            let step = plan.payload[index]
            if plan.explain { ContainerInit.writeAll(2, step.explanation) }
            let error = executor.perform(step.action)
            if error != 0 {
                SyncMessage(.payloadFailed, Int32(index), error).send(on: status)
                if case .exec = step.action { _exit(error == ENOENT ? 127 : 126) }
                _exit(1)
            }
        }
        _exit(1)  // not reached: the last step is execve
    }
}
