@testable import SwrunRuntime
import Testing

@Suite struct NetworkFilesTests {
    @Test func hostsGetsTheContainersLineOnceAndKeepsTheRest() {
        let first = NetworkFiles.hosts(existing: "127.0.0.1\tlocalhost\n10.1.1.1\tdb\n", hostname: "web", address: "10.0.3.5")
        #expect(first == "127.0.0.1\tlocalhost\n10.1.1.1\tdb\n10.0.3.5\tweb # written by swrun\n")
        let again = NetworkFiles.hosts(existing: first, hostname: "web", address: "10.0.3.6")
        #expect(again == "127.0.0.1\tlocalhost\n10.1.1.1\tdb\n10.0.3.6\tweb # written by swrun\n")
        #expect(NetworkFiles.hosts(existing: "", hostname: "web", address: "10.0.3.5").hasPrefix("127.0.0.1\tlocalhost\n"))
    }

    @Test func resolvConfKeepsOnlyResolversAContainerCanReach() {
        let host = "# managed\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\nsearch example.org\n"
        #expect(NetworkFiles.resolvConf(host: host) == "# written by swrun\nnameserver 192.0.2.53\noptions edns0\nsearch example.org\n")
        #expect(NetworkFiles.resolvConf(host: "nameserver 127.0.0.53\nnameserver ::1\n") == nil)
    }
}
