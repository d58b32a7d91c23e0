import SwrunCgroups
import Testing
@testable import SwrunRuntime

@Suite struct HostCheckTests {
    @Test func kernelConfigLinesAreRead() {
        let config = HostCheck.parseKernelConfig("# CONFIG_FOO is not set\nCONFIG_VETH=y\nCONFIG_BRIDGE=m\n")
        #expect(config == ["CONFIG_VETH": "y", "CONFIG_BRIDGE": "m"])
        let check = HostCheck(kernelConfig: config)
        #expect(check.config("CONFIG_VETH") == .enabled)
        #expect(check.config("CONFIG_BRIDGE") == .module)
        #expect(check.config("CONFIG_NF_TABLES") == .missing)
        #expect(HostCheck(kernelConfig: [:]).config("CONFIG_VETH") == .unknown)
    }

    @Test func everyNamespaceAContainerNeedsIsReported() {
        let names = HostCheck(kernelConfig: [:]).items().filter { $0.section == "Namespaces" }.map(\.name)
        for name in ["Mount namespace", "UTS namespace", "IPC namespace", "PID namespace", "Network namespace", "Cgroup namespace"] {
            #expect(names.contains(name))
        }
    }

    @Test func eachNetworkTypeSaysWhatItNeedsFromTheKernel() {
        let items = HostCheck(kernelConfig: ["CONFIG_VETH": "y", "CONFIG_MACVLAN": "m"]).items().filter { $0.section == "Networking" }
        func result(_ name: String) -> HostCheck.Result? { items.first { $0.name == name }?.result }
        #expect(result("veth pairs") == .enabled && result("macvlan") == .module)
        #expect(result("ipvlan") == .missing && result("802.1Q VLANs") == .missing)
        #expect(items.first { $0.name == "802.1Q VLANs" }?.neededFor == "lxc.net.N.type = vlan")
    }

    @Test func cgroupModeOfThisHostIsDetected() throws {
        let mode = try #require(CgroupMode.detect())
        let (v1, v2) = CgroupMode.controllers(mode: mode)
        switch mode {
        case .unified: #expect(v1.isEmpty)
        case .hybrid: #expect(!v1.isEmpty)
        case .legacy: #expect(v2.isEmpty && !v1.isEmpty)
        }
    }
}
