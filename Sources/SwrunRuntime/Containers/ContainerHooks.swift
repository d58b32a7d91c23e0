import Glibc
import SwrunConfig
import SwrunSystem

/// LXC's hooks that run on the host: lxc.hook.pre-start before anything of the container is
/// planned or made (it may mount the rootfs), lxc.hook.start-host once it is set up (before
/// its init or command starts), lxc.hook.post-stop once it is gone. Each runs as
/// LXC runs it, `sh -c "exec HOOK NAME lxc TYPE"`, with stdin on /dev/null, swrun's output
/// (the terminal, or the container's swrun.log for a started one), swrun's environment and
/// LXC's variables (LXC_NAME, LXC_CONFIG_FILE, LXC_ROOTFS_PATH, LXC_ROOTFS_MOUNT,
/// LXC_HOOK_TYPE, LXC_HOOK_SECTION). A pre-start hook that fails stops the start.
struct ContainerHooks {
    let config: ContainerConfig
    /// The container's name: letters, digits, '.', '_' and '-' only (ContainerName), so one shell word.
    let name: String
    let containerDirectory: String
    /// lxc.rootfs.path, as the config says it (the pre-start hook may be what makes it).
    var rootfs: String {
        let path = config.rootfsPath ?? "rootfs"
        return path.hasPrefix("/") ? path : FileSystem.join(containerDirectory, path)
    }

    /// Runs the `kind` hooks in order; throws at the first that fails. `initPID` (LXC_PID) for
    /// start-host, which runs once the container is set up, before its init or command starts.
    func run(_ kind: String, initPID: pid_t? = nil) throws(SwrunError) {
        for hook in config.hooks[kind] ?? [] {
            let pid: pid_t
            do {
                pid = try Subprocess.spawn(["/bin/sh", "-c", "exec \(hook) \(name) lxc \(kind)"],
                                           environment: environment(kind) + (initPID.map { ["LXC_PID=\($0)"] } ?? []))
            } catch {
                throw SwrunError.system("lxc.hook.\(kind): cannot run /bin/sh for \(hook)", error)
            }
            let status = try waitForProcess(pid)
            guard status.shellExitCode == 0 else {
                throw SwrunError(.containerSetup, "lxc.hook.\(kind) = \(hook) failed (exit \(status.shellExitCode))",
                                 hint: "see its output (above, or in the container's swrun.log when started with -d); fix the hook, or remove the lxc.hook.\(kind) line")
            }
        }
    }

    /// Runs the post-stop hooks, telling `warn` of a failure: the container is gone anyway.
    func runAfterStop(warn: (String) -> Void) {
        do { try run("post-stop") } catch { warn("\(error)") }
    }

    /// swrun's environment, with LXC's hook variables set over it.
    private func environment(_ kind: String) -> [String] {
        let variables = ["LXC_NAME": name, "LXC_CONFIG_FILE": FileSystem.join(containerDirectory, "config"),
                         "LXC_ROOTFS_PATH": rootfs, "LXC_ROOTFS_MOUNT": rootfs, "LXC_HOOK_TYPE": kind,
                         "LXC_HOOK_SECTION": "lxc"]
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if variables[String(text.prefix { $0 != "=" })] == nil { result.append(text) }
            entry += 1
        }
        return result + variables.keys.sorted().map { "\($0)=\(variables[$0] ?? "")" }
    }
}
