import CLinux
import Glibc
import SwrunSystem

/// Doing something in another network namespace: a socket opened there stays there.
public enum NetworkNamespace {
    /// Runs `body` in the network namespace `path` (/proc/PID/ns/net) and returns to this
    /// process's own. The caller must be single-threaded: setns moves only the calling thread.
    public static func entered<T>(_ path: String, _ body: () throws(SwrunError) -> T) throws(SwrunError) -> T {
        let own = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
        if own < 0 { throw SwrunError.system("cannot open /proc/self/ns/net", Errno.current) }
        defer { close(own) }
        let target = open(path, O_RDONLY | O_CLOEXEC)
        if target < 0 { throw SwrunError.system("cannot open \(path)", Errno.current, hint: "is the container still running?") }
        defer { close(target) }
        if swrun_setns(target, Int32(SWRUN_CLONE_NEWNET)) != 0 {
            throw SwrunError.system("cannot enter the network namespace \(path)", Errno.current)
        }
        let result: Result<T, SwrunError>
        do throws(SwrunError) { result = .success(try body()) } catch { result = .failure(error) }
        if swrun_setns(own, Int32(SWRUN_CLONE_NEWNET)) != 0 {
            // Staying in the container's namespace would send later requests to the wrong place.
            fatalError("cannot return to swrun's own network namespace: \(Errno.current)")
        }
        return try result.get()
    }
}
