import Glibc
import SwrunConfig
import SwrunSystem
import Testing

/// A directory under /tmp for one test.
struct TemporaryDirectory {
    let path: String

    /// Writes `text` to `name` under the directory (creating parents) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = FileSystem.join(path, name)
        try FileSystem.makeDirectories(FileSystem.parentPath(file))
        try FileSystem.writeAtomically(file, text)
        return file
    }
}

/// Runs `body` with a fresh temporary directory and removes the directory afterwards.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    var template = Array("/tmp/swrun-config-test.XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress.flatMap { mkdtemp($0) }
    }
    guard made != nil else { throw SwrunError.system("mkdtemp", Errno.current) }
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { try? FileSystem.removeTree(path) }
    return try body(TemporaryDirectory(path: path))
}

/// The container config of a config text, as if read from `path`.
func container(_ text: String, path: String = "test.conf") throws -> ContainerConfig {
    try ContainerConfig(settings: ConfigFile(text: text, path: path).settings)
}

/// The error a throwing expression raised, to check its message and hint.
func swrunError(_ body: () throws -> Void) -> SwrunError? {
    do {
        try body()
        return nil
    } catch let error as SwrunError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}
