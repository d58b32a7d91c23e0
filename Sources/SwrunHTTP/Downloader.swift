import Glibc
import SwrunSystem

/// Downloads a file to disk safely: into PATH.part, resuming what an earlier try left
/// there, retrying a dropped connection, checking size and SHA-256, and only then
/// renaming it into place, so PATH is either absent or complete and verified.
public struct Downloader {
    public let client: HTTPClient
    /// How many times a dropped connection or a timeout is retried (each resuming).
    public var retries: Int
    /// Seconds before the first retry; the wait grows with each one.
    public var retryDelay: Double

    public init(client: HTTPClient, retries: Int = 3, retryDelay: Double = 1) {
        self.client = client
        self.retries = retries
        self.retryDelay = retryDelay
    }

    /// `expectedSHA256` is a hex digest, with or without a "sha256:" prefix.
    public func download(_ url: HTTPURL, to path: String, headers: [(String, String)] = [],
                         expectedSHA256: String? = nil, expectedSize: Int64? = nil,
                         progress: (any TransferProgress)? = nil) throws(SwrunError) {
        let part = path + ".part"
        defer { progress?.finish() }
        var attempt = 0
        while true {
            do throws(SwrunError) {
                try transfer(url, to: part, headers: headers, expectedSize: expectedSize, progress: progress)
                break
            } catch let error where HTTPClient.isResumable(error) && attempt < retries {
                attempt += 1
                usleep(useconds_t(retryDelay * Double(attempt) * 1_000_000))
            }
        }
        try verify(part, as: path, from: url, sha256: expectedSHA256, size: expectedSize)
        try install(part, at: path)
    }

    /// One request: appends to `part` from where it ends (Range), or starts it over.
    private func transfer(_ url: HTTPURL, to part: String, headers: [(String, String)],
                          expectedSize: Int64?, progress: (any TransferProgress)?) throws(SwrunError) {
        var offset = fileSize(part) ?? 0
        if let expectedSize {
            if offset == expectedSize && offset > 0 { return }  // complete: verification decides
            if offset > expectedSize { offset = 0 }
        }
        var headers = headers
        if offset > 0 { headers.append(("Range", "bytes=\(offset)-")) }
        // Opened once the status is known, so an error status leaves no empty .part behind.
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        try client.get(url, headers: headers, onResponse: { response throws(SwrunError) in
            switch response.status {
            case 206:
                guard offset > 0, Downloader.contentRange(response)?.start == offset else {
                    unlink(part)
                    throw SwrunError(.network, "cannot resume \(url): the server sent another range than asked for",
                                     hint: "run the command again to download it from the start")
                }
            case 416 where offset > 0:
                // Nothing lies past the end of the .part: it may be complete already.
                if let total = Downloader.contentRange(response)?.total, total != offset {
                    unlink(part)
                    throw SwrunError(.verificationFailed, "the partial download \(part) is larger than \(url) (\(total) bytes); deleted it",
                                     hint: "run the command again to download it afresh")
                }
                return
            case 200...299:
                offset = 0  // the server ignored the Range: start over
            default:
                try response.checkSuccess()
            }
            fd = try openPart(part, at: offset)
            progress?.start(total: expectedSize ?? response.contentLength.map { $0 + offset }, completed: offset)
        }) { chunk throws(SwrunError) in
            guard fd >= 0 else { return }  // the body of a 416
            try writeAll(fd, chunk, part)
            progress?.advance(by: chunk.count)
        }
        if fd >= 0 && fsync(fd) != 0 { throw SwrunError.system("cannot write \(part)", .current) }
    }

    /// Opens `part` for writing at `offset`, cutting off anything after it.
    private func openPart(_ part: String, at offset: Int64) throws(SwrunError) -> Int32 {
        let fd = open(part, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if fd < 0 { throw SwrunError.system("cannot write \(part)", .current) }
        if ftruncate(fd, off_t(offset)) != 0 || lseek(fd, off_t(offset), SEEK_SET) != off_t(offset) {
            let errno = Errno.current
            close(fd)
            throw SwrunError.system("cannot write \(part)", errno)
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ part: String) throws(SwrunError) {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && Errno.current == .interrupted { continue }
            if count < 0 { throw SwrunError.system("cannot write \(part)", .current) }
            offset += count
        }
    }

    /// Checks size and digest; a .part that fails is deleted so that the next try starts clean.
    private func verify(_ part: String, as path: String, from url: HTTPURL, sha256: String?, size: Int64?) throws(SwrunError) {
        let hint = "the download was corrupted or the file changed on the server; run the command again to download it afresh"
        let actualSize = fileSize(part) ?? 0
        if let size, actualSize != size {
            unlink(part)
            throw SwrunError(.verificationFailed, "\(path) downloaded from \(url) has \(actualSize) bytes, expected \(size)", hint: hint)
        }
        guard var expected = sha256?.lowercased() else { return }
        if expected.hasPrefix("sha256:") { expected.removeFirst(7) }
        let actual = try SHA256.hexDigest(ofFile: part)
        if actual != expected {
            unlink(part)
            throw SwrunError(.verificationFailed,
                             "\(path) downloaded from \(url) does not match its checksum: expected sha256 \(expected), got \(actual)",
                             hint: hint)
        }
    }

    /// Renames `part` to `path` and syncs the directory, so the name survives a crash.
    private func install(_ part: String, at path: String) throws(SwrunError) {
        if rename(part, path) != 0 { throw SwrunError.system("cannot rename \(part) to \(path)", .current) }
        let parent = FileSystem.parentPath(path)
        let directory = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private func fileSize(_ path: String) -> Int64? {
        var st = stat()
        return lstat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    /// "bytes 100-199/200" -> (100, 200); "bytes */200" -> (nil, 200).
    static func contentRange(_ response: HTTPResponse) -> (start: Int64?, total: Int64?)? {
        guard let value = response.header("Content-Range"), value.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = value.dropFirst(6).trimmingSpaces
        let parts = spec.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let start = parts[0].split(separator: "-").first.flatMap { Int64($0) }
        return (start, Int64(parts[1]))
    }
}
