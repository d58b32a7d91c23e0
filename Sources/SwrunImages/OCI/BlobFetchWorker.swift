import Glibc
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// The child side of a parallel pull (`swrun image fetch-blob DIGEST`): reads one
/// `BlobDownload` as JSON on stdin, downloads it, and tells the parent how it goes on
/// stdout, one line at a time:
///   start COMPLETED TOTAL   a transfer (or a resumed one) began; TOTAL is "-" when unknown
///   at COMPLETED            bytes so far, at most ten times a second
///   done                    the blob is in place, verified
///   error JSON              it failed: {"code","message","errno","hint"} of the SwrunError
public enum BlobFetchWorker {
    /// Runs the worker on fds 0 and 1; returns the exit status (0 when the blob is in place).
    public static func run() -> Int32 {
        let output = LineWriter(fd: 1)
        do throws(SwrunError) {
            let request = try FileSystem.readAll(0, chunkSize: 16 << 10)
            let document: JSONValue
            do { document = try JSONValue(parsing: request) } catch {
                throw SwrunError(.invalidArgument, "the blob download request on stdin is not JSON",
                                 hint: "`swrun image fetch-blob` is started by `swrun pull` itself, not by hand")
            }
            let download = try BlobDownload(json: document)
            try download.run(progress: PipeProgress(output))
            output.write("done")
            return 0
        } catch {
            output.write("error " + encode(error).serialized)
            return 1
        }
    }

    static func encode(_ error: SwrunError) -> JSONValue {
        var members: [String: JSONValue] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if let errno = error.errno { members["errno"] = .number(String(errno.rawValue)) }
        if let hint = error.hint { members["hint"] = .string(hint) }
        return .object(members)
    }

    static func decode(_ document: JSONValue) -> SwrunError? {
        guard let code = document["code"]?.string.flatMap(SwrunError.Code.init(rawValue:)), let message = document["message"]?.string else {
            return nil
        }
        return SwrunError(code, message, errno: document["errno"]?.int.map { Errno(rawValue: Int32($0)) }, hint: document["hint"]?.string)
    }
}

/// Whole lines to an fd (a pipe to the parent), ignoring a parent that has gone.
final class LineWriter {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
            if count < 0 && Errno.current == .interrupted { continue }
            if count <= 0 { return }
            offset += count
        }
    }
}

/// Progress as `start` and `at` lines for the parent, which draws them.
final class PipeProgress: TransferProgress {
    private let output: LineWriter
    private var completed: Int64 = 0
    private var lastSent = -Double.infinity

    init(_ output: LineWriter) { self.output = output }

    func start(total: Int64?, completed: Int64) {
        self.completed = completed
        output.write("start \(completed) \(total.map(String.init) ?? "-")")
    }

    func advance(by count: Int) {
        completed += Int64(count)
        let now = monotonicClock()
        if now - lastSent >= 0.1 {
            lastSent = now
            output.write("at \(completed)")
        }
    }

    func finish() { output.write("at \(completed)") }
}

func monotonicClock() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
