import Glibc
import SwrunSystem

/// A fresh directory under /tmp for one test, removed with everything in it when the last
/// reference goes (even when the test fails).
final class ScratchDirectory {
    let path: String

    init(_ label: String) throws {
        var template = Array("/tmp/swrun-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SwrunError.system("cannot make a scratch directory for \(label)", Errno.current) }
        path = String(cString: made)
    }

    deinit { try? FileSystem.removeTree(path) }
}
