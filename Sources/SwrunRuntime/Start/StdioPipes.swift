import Glibc
import SwrunSystem

/// The caller's terminal never enters a container, as in LXC: a process there holding it
/// could push input into the caller's shell (TIOCSTI) or change its settings. Each of
/// swrun's stdin, stdout and stderr that is a terminal is replaced, for the container's
/// processes, by a pipe that swrun relays (stdin only when asked: with a pty, the command's
/// input comes through the pty, and its stdin pipe is empty).
public final class StdioPipes {
    /// For 0, 1, 2: the fd the container's side gets in place of swrun's, or -1.
    private(set) var childEnds: [Int32] = [-1, -1, -1]
    /// swrun's end of the stdin pipe, fed from its own stdin; -1 when there is none.
    private(set) var input: Int32 = -1
    /// swrun's ends of the stdout and stderr pipes, with where their bytes go (1 or 2).
    private(set) var outputs: [(source: Int32, destination: Int32)] = []

    /// Pipes for those of swrun's standard fds that are terminals; `feedInput`: swrun copies
    /// its stdin into the container's (no pty).
    init(feedInput: Bool) throws(SwrunError) {
        do throws(SwrunError) {
            for fd: Int32 in 0...2 where Terminal.isTerminal(fd) {
                let (read, write) = try FileSystem.makePipe()
                if fd == 0 {
                    childEnds[0] = read
                    if feedInput { input = write } else { close(write) }
                } else {
                    childEnds[Int(fd)] = write
                    outputs.append((read, fd))
                }
            }
        } catch {
            closeChildEnds()
            closeInput()
            for output in outputs { close(output.source) }
            throw error
        }
    }

    var isEmpty: Bool { childEnds.allSatisfy { $0 < 0 } }

    /// swrun's copies of the container's ends, once the container's side has its own: the
    /// pipes then end when the container's side closes them.
    func closeChildEnds() {
        for index in childEnds.indices where childEnds[index] >= 0 {
            close(childEnds[index])
            childEnds[index] = -1
        }
    }

    /// At the end of swrun's stdin: the container's stdin reaches its end too.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// An output pipe at its end: the relay drops it.
    func closeOutput(_ source: Int32) {
        close(source)
        outputs.removeAll { $0.source == source }
    }

    deinit {
        closeChildEnds()
        closeInput()
        for output in outputs { close(output.source) }
    }
}
