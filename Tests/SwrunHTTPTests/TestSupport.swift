import Glibc
import SwrunHTTP
import SwrunSystem
import Testing

/// rootfs-fixtures/serve.py, found from this file's place in the tree.
let servePath = FileSystem.join(FileSystem.parentPath(FileSystem.parentPath(FileSystem.parentPath(#filePath))),
                                "rootfs-fixtures/serve.py")

/// Runs `body` with a fresh directory under /tmp and removes it afterwards, even on failure.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/swrun-http-test.XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        throw SwrunError.system("mkdtemp", Errno.current)
    }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { try? FileSystem.removeTree(path) }
    return try body(path)
}

/// A running serve.py: files under `root`, requests logged to `logPath`.
struct TestServer {
    let pid: pid_t
    let port: Int
    let root: String
    let logPath: String
    let scheme: HTTPURL.Scheme

    func url(_ path: String, host: String = "127.0.0.1") throws -> HTTPURL {
        try HTTPURL("\(scheme.rawValue)://\(host):\(port)\(path)")
    }

    /// The request lines the server logged: "GET /path range=bytes=N-".
    /// The request lines logged, without the " active=N" that ends each.
    func requests() throws -> [String] {
        try FileSystem.readText(logPath).split(separator: "\n").map { line in
            line.firstRange(of: " active=").map { String(line[..<$0.lowerBound]) } ?? String(line)
        }
    }
}

/// Starts serve.py over `files` (name: content) in a temporary directory, runs `body`,
/// then kills the server and removes the directory, whatever happened.
func withServer<T>(files: [String: [UInt8]] = [:], tls: Bool = false, names: String = "IP:127.0.0.1,DNS:localhost",
                   _ body: (TestServer, String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let root = FileSystem.join(directory, "root")
        for (name, content) in files {
            let path = FileSystem.join(root, name)
            try FileSystem.makeDirectories(FileSystem.parentPath(path))
            try FileSystem.writeAtomically(path, content)
        }
        try FileSystem.makeDirectories(root)
        var arguments = ["python3", servePath, "--root", root, "--slow", "3"]
        if tls {
            try makeCertificates(in: directory, names: names)
            arguments += ["--tls", FileSystem.join(directory, "server.pem"), FileSystem.join(directory, "server.key")]
        }
        let logPath = FileSystem.join(directory, "server.log")
        let (pid, port) = try spawnServer(arguments, logPath: logPath)
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        let server = TestServer(pid: pid, port: port, root: root, logPath: logPath, scheme: tls ? .https : .http)
        return try body(server, directory)
    }
}

/// Starts a fixture server (serve.py, proxy.py) with stdout on a pipe and reads the port it prints first.
func spawnServer(_ arguments: [String], logPath: String) throws -> (pid_t, Int) {
    let (readEnd, writeEnd) = try FileSystem.makePipe()
    defer { close(readEnd) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
    posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let cArguments = arguments.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawnp(&pid, "python3", &actions, nil, cArguments, environ)
    close(writeEnd)
    if result != 0 { throw SwrunError.system("cannot start \(arguments.joined(separator: " "))", Errno(rawValue: result)) }

    var line: [UInt8] = []
    var byte: UInt8 = 0
    var ready = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
    while byte != UInt8(ascii: "\n") {
        guard poll(&ready, 1, 10_000) == 1, read(readEnd, &byte, 1) == 1 else {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            throw SwrunError(.system, "\(arguments[1]) did not print its port: \((try? FileSystem.readText(logPath)) ?? "")")
        }
        line.append(byte)
    }
    guard let port = Int(String(decoding: line.dropLast(), as: UTF8.self)) else {
        throw SwrunError(.system, "\(arguments[1]) printed no port but '\(String(decoding: line, as: UTF8.self))'")
    }
    return (pid, port)
}

/// A throwaway CA (ca.pem) and a server certificate it signed for `names` (subjectAltName).
private func makeCertificates(in directory: String, names: String) throws {
    func file(_ name: String) -> String { FileSystem.join(directory, name) }
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    try FileSystem.writeAtomically(file("ext.cnf"), "subjectAltName=\(names)\n")
    for command in [
        ["openssl", "req", "-x509"] + key + ["-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2", "-subj", "/CN=swrun test CA"],
        ["openssl", "req"] + key + ["-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
         "-CAcreateserial", "-out", file("server.pem"), "-days", "2", "-extfile", file("ext.cnf")],
    ] {
        let (status, _) = try Subprocess.run(command)
        try #require(status == 0, "\(command.joined(separator: " ")) failed")
    }
}

/// The SwrunError a throwing expression raised, to check its message and hint.
func swrunError(_ body: () throws -> Void) -> SwrunError? {
    do {
        try body()
        Issue.record("expected an error")
        return nil
    } catch let error as SwrunError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// `count` bytes that differ from position to position, so a misplaced range shows.
func testBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) }
}
