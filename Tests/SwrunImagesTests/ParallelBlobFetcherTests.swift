import Glibc
import SwrunHTTP
import SwrunImages
import SwrunSystem
import Testing

/// The parent side of parallel pulls, with a python worker standing in for
/// `swrun image fetch-blob`: it speaks the same protocol, so no network is needed.
@Suite struct ParallelBlobFetcherTests {
    let directory: String

    init() throws {
        var template = Array("/tmp/swrun-fetch-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError(.system, "mkdtemp failed") }
        directory = String(cString: made)
    }

    /// A worker that marks itself running in DIR/running, notes how many run at once in
    /// DIR/peaks, holds on for a moment, writes the blob, and says `done`. BEHAVIOUR picks
    /// a failure instead: "error" reports one, "silent" exits without a word.
    func worker(_ behaviour: String = "ok") -> [String] {
        let script = """
            import json, os, sys, time
            request = json.load(sys.stdin)
            running = os.path.join("\(directory)", "running")
            os.makedirs(running, exist_ok=True)
            marker = os.path.join(running, request["digest"])
            open(marker, "w").close()
            with open(os.path.join("\(directory)", "peaks"), "a") as f:
                f.write(f"{len(os.listdir(running))}\\n")
            print("start 0", request["size"], flush=True)
            time.sleep(0.5)
            os.remove(marker)
            if "\(behaviour)" == "error" and request["digest"].endswith("2"):
                print('error {"code":"verificationFailed","message":"blob ' + request["digest"] + ' is bad","hint":"retry"}', flush=True)
                sys.exit(1)
            if "\(behaviour)" == "silent":
                sys.exit(3)
            with open(request["path"], "wb") as f:
                f.write(b"x" * request["size"])
            print("at", request["size"], flush=True)
            print("done", flush=True)
            """
        return ["/usr/bin/python3", "-c", script]
    }

    func downloads(_ count: Int) throws -> [BlobDownload] {
        try (1...count).map { index throws(SwrunError) in
            BlobDownload(url: try HTTPURL("http://127.0.0.1:1/blob\(index)"), digest: "sha256:blob\(index)", size: Int64(index * 10),
                         path: directory + "/blob\(index)")
        }
    }

    func peaks() throws -> [Int] {
        try FileSystem.readText(directory + "/peaks").split(separator: "\n").compactMap { Int($0) }
    }

    @Test func runsSeveralWorkersAtOnceButNoMoreThanTheLimit() throws {
        defer { try? FileSystem.removeTree(directory) }
        try ParallelBlobFetcher(worker: worker(), limit: 3, onTerminal: false).fetch(try downloads(6)) { _ in }
        for index in 1...6 { #expect(try FileSystem.readText(directory + "/blob\(index)").count == index * 10) }
        let seen = try peaks()
        #expect(seen.count == 6)
        #expect(seen.max() ?? 0 > 1, "the workers overlapped in time")
        #expect(seen.max() ?? 0 <= 3, "never more than the limit at once: \(seen)")
    }

    @Test func reportsOneLinePerBlobWhenNotOnATerminal() throws {
        defer { try? FileSystem.removeTree(directory) }
        var lines: [String] = []
        try ParallelBlobFetcher(worker: worker(), onTerminal: false).fetch(try downloads(2)) { lines.append($0) }
        #expect(lines.first == "downloading 2 blobs (30 B), 2 at a time")
        #expect(lines.dropFirst().sorted() == ["downloaded sha256:blob1 (10 B)", "downloaded sha256:blob2 (20 B)"])
    }

    @Test func skipsBlobsThatAreThereAlready() throws {
        defer { try? FileSystem.removeTree(directory) }
        try FileSystem.writeAtomically(directory + "/blob1", "cached")
        try ParallelBlobFetcher(worker: worker(), onTerminal: false).fetch(try downloads(2)) { _ in }
        #expect(try FileSystem.readText(directory + "/blob1") == "cached")
        #expect(try peaks().count == 1)
    }

    @Test func aWorkersErrorIsThrownAsItsOwn() throws {
        defer { try? FileSystem.removeTree(directory) }
        let error = #expect(throws: SwrunError.self) {
            try ParallelBlobFetcher(worker: worker("error"), limit: 2, onTerminal: false).fetch(try downloads(3)) { _ in }
        }
        #expect(error?.code == .verificationFailed && error?.message == "blob sha256:blob2 is bad" && error?.hint == "retry")
    }

    @Test func aWorkerThatEndsWithoutAWordIsAnError() throws {
        defer { try? FileSystem.removeTree(directory) }
        let error = #expect(throws: SwrunError.self) {
            try ParallelBlobFetcher(worker: worker("silent"), onTerminal: false).fetch(try downloads(1)) { _ in }
        }
        #expect(error?.message.contains("sha256:blob1") == true && error?.message.contains("exited with status 3") == true)
        #expect(!FileSystem.exists(directory + "/blob1"))
    }
}
