import Foundation
import Glibc
import Testing

/// swrun attach against a hostile container: what it reads, which namespaces and privileges
/// it takes, and what the container can see of it.
@Suite struct AttachSecurityTests {
    typealias Booted = SystemContainerTests.Booted

    /// The container's /etc/passwd links to a host file: attach must not read the host's file
    /// (here it would name a login shell that is not in the container).
    @Test func loginShellIsReadInsideTheContainerNeverThroughItsLinks() throws {
        let container = try Booted("passwd", start: false)
        let rootfs = "\(container.sandbox.path)/\(container.name)/rootfs"
        let hostFile = container.sandbox.write("host-passwd", "root:x:0:0:root:/root:/bin/HOSTSHELL\n")
        try FileManager.default.removeItem(atPath: rootfs + "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/etc/passwd", withDestinationPath: hostFile)
        #expect(try container.swrun(["start"]).status == 0)
        let attached = try Swrun.run(["attach", "-n", container.name, "-P", container.sandbox.path], input: "echo shell=$0\n")
        #expect(attached.stdout == "shell=/bin/sh\n", "\(attached.stdout) \(attached.stderr)")
    }
}
