import Glibc
import SwrunSystem

/// Hooks that run on the host: before anything of the container is made (lxc.hook.pre-start,
/// which may mount the rootfs), once it is set up before its command starts (lxc.hook.start-host,
/// OCI prestart and createRuntime), once its command runs (OCI poststart), once it is gone
/// (lxc.hook.post-stop, OCI poststop). Each runs with the program, arguments and environment
/// the spec gives (LXC's under swrun's own environment), stdin on /dev/null or, for OCI's, the
/// container's state, swrun's output (the terminal, or the container's swrun.log for a
/// started one), and its timeout. One that fails stops the start.
struct ContainerHooks {
    /// Runs `hooks` in order; throws at the first that fails. `initPID` is LXC_PID for LXC's
    /// hooks; `state` is what OCI's hooks read on stdin.
    static func run(_ hooks: [Hook], initPID: pid_t? = nil, state: String? = nil) throws(SwrunError) {
        for hook in hooks {
            let environment = hook.inheritsEnvironment
                ? Self.hostEnvironment(without: hook.environment) + hook.environment + (initPID.map { ["LXC_PID=\($0)"] } ?? [])
                : hook.environment
            let status: ProcessStatus
            do {
                status = try Self.runOne(hook, environment: environment, state: hook.readsState ? state : nil)
            } catch {
                throw SwrunError(error.code, "\(hook.label): \(error.message)", errno: error.errno,
                                 hint: error.hint ?? "check the hook's path and that it is executable")
            }
            guard status.shellExitCode == 0 else {
                let how = if case .exited(let code) = status { "exit \(code)" } else { "\(status)" }
                throw SwrunError(.containerSetup, "\(hook.label) failed (\(how))",
                                 hint: "see its output (above, or in the container's swrun.log when started with -d); fix the hook, or remove it")
            }
        }
    }

    /// Runs hooks of a container that is gone anyway, telling `warn` of a failure.
    static func runAfterStop(_ hooks: [Hook], state: String? = nil, warn: (String) -> Void) {
        do { try run(hooks, state: state) } catch { warn("\(error)") }
    }

    private static func runOne(_ hook: Hook, environment: [String], state: String?) throws(SwrunError) -> ProcessStatus {
        var input: (read: Int32, write: Int32)?
        if state != nil { input = try FileSystem.makePipe() }
        defer { if let input { close(input.read) } }
        let pid: pid_t
        do {
            pid = try Subprocess.spawn(hook.args.isEmpty ? [hook.path] : hook.args, executable: hook.path,
                                       stdin: input.map { .fd($0.read) } ?? .null, environment: environment)
        } catch {
            if let input { close(input.write) }
            throw SwrunError.system("cannot run \(hook.path)", error)
        }
        if let input, let state {
            // The state fits a pipe's buffer; a hook that exits without reading it is no error.
            let bytes = Array(state.utf8)
            _ = bytes.withUnsafeBytes { write(input.write, $0.baseAddress, $0.count) }
            close(input.write)
        }
        guard let timeout = hook.timeout else { return try waitForProcess(pid) }
        let deadline = monotonicMilliseconds() + timeout * 1000
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { return ProcessStatus(waitStatus: status) }
            if reaped < 0 && errno != EINTR { throw SwrunError.system("cannot wait for \(hook.path)", Errno.current) }
            if monotonicMilliseconds() >= deadline {
                kill(pid, SIGKILL)
                _ = try? waitForProcess(pid)
                throw SwrunError(.containerSetup, "it ran past its timeout of \(timeout) s and was killed", hint: "make it faster, or raise its timeout")
            }
            usleep(10_000)
        }
    }

    /// swrun's environment, less the variables the hook sets itself.
    private static func hostEnvironment(without own: [String]) -> [String] {
        let names = Set(own.map { String($0.prefix { $0 != "=" }) })
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !names.contains(String(text.prefix { $0 != "=" })) && !text.hasPrefix("LXC_PID=") { result.append(text) }
            entry += 1
        }
        return result
    }
}
