import CLinux
import Glibc
import SwrunJSON
import SwrunSystem

/// How an archive is opened for unpacking: decompressed in this process, or by a worker
/// process (swrun itself: `image decompress PATH`) that writes the plain tar into a pipe, so
/// that decompressing and writing files run on two cores at once, as tar and its xz do.
/// swrun runs no threads; a second process is how it gets the second core.
public struct ArchiveOpener: Sendable {
    /// The worker's argv, to which the archive's path is added; nil decompresses here.
    public let worker: [String]?

    public init(worker: [String]?) { self.worker = worker }

    public static let inProcess = ArchiveOpener(worker: nil)

    /// The archive's uncompressed bytes. A plain tar is always read here: no work to share.
    public func open(_ path: String) throws(SwrunError) -> any ByteSource {
        let source = try DecompressingSource(FileSource(path: path))
        guard let worker, source.compression != .none else { return source }
        return try WorkerSource(argv: worker + [path], path: path)
    }

    /// The worker's side: decompresses `path` onto fd 1; an error goes to fd 2 as
    /// "error JSON" for the parent. Returns the exit status.
    public static func runWorker(path: String) -> Int32 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        do throws(SwrunError) {
            let source = try DecompressingSource(FileSource(path: path))
            while true {
                let count = try source.read(into: buffer)
                if count == 0 { return 0 }
                var offset = 0
                while offset < count {
                    let written = write(1, buffer.baseAddress.map { $0 + offset }, count - offset)
                    if written < 0 && Errno.current == .interrupted { continue }
                    if written <= 0 { return 1 }  // the reader stopped early: nothing to tell it
                    offset += written
                }
            }
        } catch {
            LineWriter(fd: 2).write("error " + BlobFetchWorker.encode(error).serialized)
            return 1
        }
    }
}

/// The plain tar a decompression worker writes into a pipe, read in large pieces (the tar
/// reader asks for 512-byte headers). Ending early (an error, or a reader that stops at
/// the archive's end marker) stops and reaps the worker.
final class WorkerSource: ByteSource {
    private let path: String
    private let pid: pid_t
    private var data: Int32
    private var errors: Int32
    private var reaped = false
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var start = 0
    private var end = 0

    init(argv: [String], path: String) throws(SwrunError) {
        self.path = path
        let data = try FileSystem.makePipe()
        let errors: (read: Int32, write: Int32)
        do { errors = try FileSystem.makePipe() } catch {
            close(data.read)
            close(data.write)
            buffer.deallocate()  // an init that throws runs no deinit
            throw error
        }
        // A larger pipe: fewer switches between the two processes (the kernel may refuse; fine).
        _ = fcntl(data.write, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))
        defer {
            close(data.write)
            close(errors.write)
        }
        do {
            pid = try WorkerProcess.spawn(argv, stdin: nil, stdout: data.write, stderr: errors.write)
        } catch {
            close(data.read)
            close(errors.read)
            buffer.deallocate()
            throw error
        }
        self.data = data.read
        self.errors = errors.read
    }

    deinit {
        if !reaped {
            kill(pid, SIGTERM)
            _ = try? waitForProcess(pid)
        }
        close(data)
        close(errors)
        buffer.deallocate()
    }

    func read(into target: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        if start == end {
            guard !reaped else { return 0 }
            // A large read (file data) goes straight to its target: one copy fewer.
            let direct = target.count >= 64 << 10
            let count = try readPipe(into: direct ? target : buffer)
            if count == 0 { return try finish() }
            if direct { return count }
            (start, end) = (0, count)
        }
        let count = min(target.count, end - start)
        if let destination = target.baseAddress, let origin = buffer.baseAddress {
            destination.copyMemory(from: origin + start, byteCount: count)
        }
        start += count
        return count
    }

    private func readPipe(into target: UnsafeMutableRawBufferPointer) throws(SwrunError) -> Int {
        while true {
            let count = Glibc.read(data, target.baseAddress, target.count)
            if count >= 0 { return count }
            if Errno.current != .interrupted {
                throw SwrunError.system("cannot read the decompressed \(path) from its worker", .current)
            }
        }
    }

    /// At the end of the data: the worker's exit status says whether that was the whole archive.
    private func finish() throws(SwrunError) -> Int {
        let status = try waitForProcess(pid)
        reaped = true
        guard status != .exited(0) else { return 0 }
        let text = String(decoding: (try? FileSystem.readAll(errors)) ?? [], as: UTF8.self)
        if text.hasPrefix("error "), let document = try? JSONValue(parsing: Array(text.dropFirst(6).utf8)),
           let error = BlobFetchWorker.decode(document) {
            throw error
        }
        throw SwrunError(.system, "the worker decompressing \(path) \(status)\(text.isEmpty ? "" : ": " + text)",
                         hint: "run it again; if it fails again, the archive may be damaged")
    }
}
