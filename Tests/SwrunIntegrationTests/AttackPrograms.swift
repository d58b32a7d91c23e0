import Foundation
import Glibc
import Testing

/// The small C programs of rootfs-fixtures/attackers, compiled for a test: what a hostile
/// process in a container (or a tracer standing for one) does, where busybox has no applet.
enum AttackPrograms {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rootfs-fixtures/attackers").path

    /// Compiles NAME.c to `output`; `static` for one that runs in a container's rootfs, with
    /// `flags` such as -m32.
    static func build(_ name: String, to output: String, static linkStatically: Bool, flags: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        process.arguments = flags + (linkStatically ? ["-static"] : []) + ["-O2", "-o", output, "\(sources)/\(name).c"]
        let result = try Swrun.runProcess(process)
        try #require(result.status == 0, "gcc \(name).c failed: \(result.stderr)")
    }
}
