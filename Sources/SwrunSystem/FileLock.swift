import Glibc

/// An flock(2) on a file: held while the owner lives, released by the kernel
/// when the process dies, so a crash never leaves a stale lock.
public final class FileLock {
    public let fd: Int32
    public let path: String

    /// Takes the lock without waiting; nil when another process holds it.
    public static func tryAcquire(_ path: String) throws(SwrunError) -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw SwrunError.system("cannot open lock file \(path)", Errno.current) }
        return try tryLock(fd, path: path)
    }

    /// Takes an exclusive lock on the existing directory `path` itself without waiting; nil
    /// when another process holds it.
    public static func tryAcquire(directory path: String) throws(SwrunError) -> FileLock? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open directory \(path) to lock it", Errno.current) }
        return try tryLock(fd, path: path)
    }

    /// flock(2) of `fd` without waiting: nil, `fd` closed, when it is held elsewhere.
    private static func tryLock(_ fd: Int32, path: String) throws(SwrunError) -> FileLock? {
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let errno = Errno.current
            close(fd)
            if errno == .wouldBlock { return nil }
            throw SwrunError.system("cannot lock \(path)", errno)
        }
        return FileLock(fd: fd, path: path)
    }

    /// Takes the lock, waiting for whoever holds it (a short critical section elsewhere).
    /// A `shared` lock is held by any number of processes at once, and keeps out only an
    /// exclusive one (readers of a cache against the one that prunes it).
    public static func acquire(_ path: String, shared: Bool = false) throws(SwrunError) -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw SwrunError.system("cannot open lock file \(path)", Errno.current) }
        return try waitForLock(fd, path: path, operation: shared ? LOCK_SH : LOCK_EX)
    }

    /// Takes an exclusive lock on the existing directory `path` itself, waiting for whoever
    /// holds it: a lock that needs no file of its own beside the files it guards.
    public static func acquire(directory path: String) throws(SwrunError) -> FileLock {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SwrunError.system("cannot open directory \(path) to lock it", Errno.current) }
        return try waitForLock(fd, path: path, operation: LOCK_EX)
    }

    /// flock(2) of `fd`, retried when a signal interrupts the wait; `fd` is closed on failure.
    private static func waitForLock(_ fd: Int32, path: String, operation: Int32) throws(SwrunError) -> FileLock {
        while flock(fd, operation) != 0 {
            let errno = Errno.current
            if errno == .interrupted { continue }
            close(fd)
            throw SwrunError.system("cannot lock \(path)", errno)
        }
        return FileLock(fd: fd, path: path)
    }

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }
}
