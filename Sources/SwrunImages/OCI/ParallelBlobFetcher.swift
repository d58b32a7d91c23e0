import CLinux
import Glibc
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// Downloads up to `limit` blobs at once (3, as Docker does), each in a worker process of
/// its own (`worker` + the digest: `/proc/self/exe image fetch-blob DIGEST`), since swrun
/// runs no threads. This process holds each blob's lock while its worker runs, reads the
/// workers' progress lines from one poll loop, and draws one bar for them all on a
/// terminal, or one line per finished blob when stderr is not one.
public struct ParallelBlobFetcher: BlobFetcher {
    public let worker: [String]
    public let limit: Int
    public let onTerminal: Bool

    public init(worker: [String], limit: Int = 3, onTerminal: Bool = Terminal.isTerminal(2)) {
        self.worker = worker
        self.limit = max(1, limit)
        self.onTerminal = onTerminal
    }

    public func fetch(_ downloads: [BlobDownload], report: (String) -> Void) throws(SwrunError) {
        var pending = downloads.filter { !FileSystem.exists($0.path) }
        guard !pending.isEmpty else { return }
        let total = pending.reduce(Int64(0)) { $0 + $1.size }
        report("downloading \(pending.count) blob\(pending.count == 1 ? "" : "s") (\(DownloadProgress.formatBytes(total))), \(min(limit, pending.count)) at a time")
        let bar = DownloadProgress(name: "\(pending.count) blob\(pending.count == 1 ? "" : "s")")
        var running: [WorkerProcess] = []
        defer {
            for worker in running { worker.stop() }  // after an error: their .part files stay for a resume
            bar.finish()
        }
        bar.start(total: total, completed: 0)
        /// Starts the worker for a blob whose lock is held, unless another pull brought the blob meanwhile.
        func begin(_ download: BlobDownload, _ lock: FileLock) throws(SwrunError) {
            if FileSystem.exists(download.path) { return bar.addResumed(download.size) }
            running.append(try WorkerProcess(download, lock: lock, argv: worker + [download.digest]))
        }
        while !pending.isEmpty || !running.isEmpty {
            // Start what may start; a blob that another pull is fetching is passed over for now.
            var index = 0
            while running.count < limit && index < pending.count {
                guard let lock = try FileLock.tryAcquire(pending[index].path + ".lock") else {
                    index += 1
                    continue
                }
                try begin(pending.remove(at: index), lock)
            }
            if running.isEmpty, !pending.isEmpty {
                // Only blobs that other pulls are fetching are left: wait for the first.
                let download = pending.removeFirst()
                try begin(download, try FileLock.acquire(download.path + ".lock"))
                continue
            }
            for finished in try WorkerProcess.serve(running, bar: bar) {
                running.removeAll { $0 === finished }
                try finished.result()
                if !onTerminal { report("downloaded \(finished.download.digest) (\(DownloadProgress.formatBytes(finished.download.size)))") }
            }
        }
    }
}

/// One worker process, its progress pipe, and the lock of the blob it fetches.
final class WorkerProcess {
    let download: BlobDownload
    let pid: pid_t
    private let lock: FileLock
    private var output: Int32
    private var partial: [UInt8] = []
    /// Bytes of the blob it has reported, counted into the shared bar.
    private var reported: Int64 = 0
    private var failure: SwrunError?
    private var succeeded = false
    private var status: ProcessStatus?

    init(_ download: BlobDownload, lock: FileLock, argv: [String]) throws(SwrunError) {
        self.download = download
        self.lock = lock
        // The request goes into the pipe before the worker exists: it fits the pipe's buffer,
        // and a worker that dies at once can then never make this write raise SIGPIPE.
        let request = try FileSystem.makePipe()
        defer { close(request.read) }
        var requestOpen = true
        defer { if requestOpen { close(request.write) } }
        let bytes = Array(download.json.serialized.utf8)
        if bytes.count > 60 << 10 {
            throw SwrunError(.invalidArgument, "the download request for \(download.digest) is too large (\(bytes.count) bytes)",
                             hint: "the registry's token is unusually long; report this as a bug")
        }
        try Self.writeAll(request.write, bytes, what: "the download request for \(download.digest)")
        close(request.write)
        requestOpen = false
        let progress = try FileSystem.makePipe()
        defer { close(progress.write) }
        output = progress.read
        do throws(SwrunError) {
            pid = try Self.spawn(argv, stdin: request.read, stdout: progress.write)
        } catch {
            close(progress.read)
            throw error
        }
    }

    deinit { if output >= 0 { close(output) } }

    /// Starts swrun's worker `argv` with these fds as its stdio (nil: /dev/null for stdin,
    /// ours for stderr), and no other fd of ours.
    static func spawn(_ argv: [String], stdin: Int32?, stdout: Int32, stderr: Int32? = nil) throws(SwrunError) -> pid_t {
        do {
            return try Subprocess.spawn(argv, stdin: stdin.map { .fd($0) } ?? .null, stdout: .fd(stdout), stderr: stderr.map { .fd($0) } ?? .inherit)
        } catch let errno {
            let program = argv.first ?? ""
            throw SwrunError.system("cannot start a worker (\(program))", errno,
                                    hint: "swrun starts itself to download and decompress alongside its own work; check that \(program) can run")
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(SwrunError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if count < 0 && Errno.current == .interrupted { continue }
            if count < 0 { throw SwrunError.system("cannot pass \(what) to its worker", .current) }
            offset += count
        }
    }

    /// Waits until some of `workers` have news, moves their progress onto `bar`, and returns
    /// those that have ended (reaped).
    static func serve(_ workers: [WorkerProcess], bar: DownloadProgress) throws(SwrunError) -> [WorkerProcess] {
        var entries = workers.map { pollfd(fd: $0.output, events: Int16(POLLIN), revents: 0) }
        while poll(&entries, nfds_t(entries.count), -1) < 0 {
            if Errno.current != .interrupted { throw SwrunError.system("cannot wait for the download workers", .current) }
        }
        var ended: [WorkerProcess] = []
        for (worker, entry) in zip(workers, entries) where entry.revents != 0 {
            if try worker.readLines(bar: bar) { ended.append(worker) }
        }
        return ended
    }

    /// Reads what the worker wrote; true once it has ended (and been reaped).
    private func readLines(bar: DownloadProgress) throws(SwrunError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
        if count < 0 {
            if Errno.current == .interrupted || Errno.current == .wouldBlock { return false }
            throw SwrunError.system("cannot read from the download worker of \(download.digest)", .current)
        }
        if count == 0 {
            close(output)
            output = -1
            status = try waitForProcess(pid)
            return true
        }
        partial += chunk[0..<count]
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            handle(String(decoding: partial[..<newline], as: UTF8.self), bar: bar)
            partial.removeSubrange(...newline)
        }
        return false
    }

    private func handle(_ line: String, bar: DownloadProgress) {
        let words = line.split(separator: " ", maxSplits: 2).map(String.init)
        switch words.first {
        case "start":
            guard words.count > 1, let completed = Int64(words[1]) else { return }
            move(bar, to: completed, resumed: true)
        case "at":
            guard words.count > 1, let completed = Int64(words[1]) else { return }
            move(bar, to: completed, resumed: false)
        case "done":
            succeeded = true
            move(bar, to: download.size, resumed: false)
        case "error":
            let json = String(line.dropFirst("error ".count))
            failure = (try? JSONValue(parsing: Array(json.utf8))).flatMap(BlobFetchWorker.decode)
                ?? SwrunError(.system, "the download worker of \(download.digest) failed: \(json)")
        default:
            break
        }
    }

    /// Bytes a resumed transfer found on disk count as done but not into the rate.
    private func move(_ bar: DownloadProgress, to completed: Int64, resumed: Bool) {
        let delta = completed - reported
        reported = completed
        if resumed && delta > 0 { bar.addResumed(delta) } else if delta != 0 { bar.advance(by: Int(delta)) }
    }

    /// Throws the worker's own error, or one saying how it ended without a word.
    func result() throws(SwrunError) {
        if let failure { throw failure }
        guard succeeded, status == .exited(0), FileSystem.exists(download.path) else {
            throw SwrunError(.system, "the download worker of \(download.digest) \(status?.description ?? "ended") without finishing",
                             hint: "run the command again: the download resumes where it stopped")
        }
    }

    /// Ends a worker that is still running (another blob failed) and reaps it.
    func stop() {
        guard status == nil else { return }
        kill(pid, SIGTERM)
        status = try? waitForProcess(pid)
    }
}
