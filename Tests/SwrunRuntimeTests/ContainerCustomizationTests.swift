import Glibc
import SwrunConfig
import SwrunImages
import SwrunSystem
import Testing
@testable import SwrunRuntime

/// Docker's flags as LXC's keys, and what the start makes of those keys.
@Suite struct ContainerCustomizationTests {
    func applied(_ customization: ContainerCustomization, to text: String = "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\n",
                 account: ImageUser.Account? = nil) throws -> (config: ConfigFile, sidecar: ContainerSidecar) {
        var config = try ConfigFile(text: text, path: "/tmp/x/config")
        var sidecar = ContainerSidecar()
        customization.apply(to: &config, sidecar: &sidecar, containerDirectory: "/tmp/x", account: account)
        return (config, sidecar)
    }

    func values(_ config: ConfigFile, _ key: String) -> [String] { config.settings.filter { $0.key == key }.map(\.value) }

    @Test func flagsBecomeLXCKeys() throws {
        var flags = ContainerCustomization()
        flags.environment = ["A=1", "B"]
        flags.workingDirectory = "/srv"
        flags.hostname = "web"
        flags.network = .empty
        flags.readOnlyRoot = true
        flags.resourceLimits = [("nofile", "100:200")]
        flags.stopSignal = "SIGQUIT"
        flags.ephemeral = true
        flags.keepsConsoleLog = true
        flags.limits = [("lxc.cgroup2.memory.max", "64M")]
        let (config, sidecar) = try applied(flags, account: ImageUser.Account(uid: 1000, gid: 100, home: "/home/app", groups: [50, 44]))
        #expect(values(config, "lxc.environment") == ["A=1", "B", "HOME=/home/app"])
        #expect(values(config, "lxc.init.cwd") == ["/srv"] && sidecar.makesWorkingDirectory)
        #expect(values(config, "lxc.init.uid") == ["1000"] && values(config, "lxc.init.gid") == ["100"])
        #expect(values(config, "lxc.init.groups") == ["50,44"])
        #expect(values(config, "lxc.uts.name") == ["web"])
        #expect(!config.settings.contains { $0.key.hasPrefix("lxc.net.") && $0.key != "lxc.net.0.type" } && values(config, "lxc.net.0.type") == ["empty"], "\(config.rendered())")
        #expect(values(config, "lxc.rootfs.options") == ["ro"] && values(config, "lxc.prlimit.nofile") == ["100:200"])
        #expect(values(config, "lxc.signal.halt") == ["SIGQUIT"] && values(config, "lxc.ephemeral") == ["1"])
        #expect(values(config, "lxc.console.logfile") == ["/tmp/x/console.log"])
        #expect(values(config, "lxc.cgroup2.memory.max") == ["64M"])
        // And LXC's rules read it back as meant.
        let read = try ContainerConfig(settings: config.settings)
        #expect(read.resourceLimits == [ResourceLimitSetting(name: "nofile", soft: 100, hard: 200)] && read.initGroups == [50, 44])
        #expect(read.rootfsFlags.set == UInt(MS_RDONLY) && read.ephemeral)
    }

    @Test func networksReplaceEveryNetLine() throws {
        var flags = ContainerCustomization()
        flags.network = .init(parsing: "host")
        #expect(values(try applied(flags).config, "lxc.net.0.type") == ["none"])
        flags.network = .init(parsing: "br7")
        let config = try applied(flags).config
        #expect(values(config, "lxc.net.0.link") == ["br7"] && values(config, "lxc.net.0.type") == ["veth"] && values(config, "lxc.net.0.ipv4.address").isEmpty)
        #expect(throws: Never.self) { try ContainerConfig(settings: config.settings) }
        #expect(ContainerCustomization.NetworkMode(parsing: "bridge") == .bridge(HostBridge.defaultName))
    }

    @Test func capabilitiesAddToAndDropFromLXCsLists() throws {
        var flags = ContainerCustomization()
        flags.addedCapabilities = ["sys_time"]
        flags.droppedCapabilities = ["net_raw"]
        let drop = try ContainerConfig(settings: try applied(flags, to: "").config.settings).capDrop
        #expect(!drop.contains("sys_time") && drop.contains("net_raw") && drop.contains("sys_module"), "swrun's default drops stay: \(drop)")
        // A keep list grows and shrinks instead.
        let kept = try ContainerConfig(settings: try applied(flags, to: "lxc.cap.keep = chown net_raw\n").config.settings).capKeep
        #expect(kept == ["chown", "sys_time"])
        flags.droppedCapabilities = ["all"]
        flags.addedCapabilities = ["chown"]
        #expect(try ContainerConfig(settings: try applied(flags, to: "").config.settings).capKeep == ["chown"])
        var privileged = ContainerCustomization()
        privileged.privileged = true
        let config = try applied(privileged, to: "").config
        #expect(values(config, "lxc.cap.drop") == [""] && values(config, "lxc.cgroup.devices.allow") == ["a"])
        #expect(try ContainerConfig(settings: config.settings).capDrop.isEmpty)
    }

    @Test func entrypointAndCommandKeepLXCsInitCmdWhereItCanHoldThem() throws {
        var flags = ContainerCustomization()
        flags.entrypoint = ["/bin/app"]
        flags.command = ["--port", "80"]
        let (config, sidecar) = try applied(flags, to: "lxc.init.cmd = /sbin/init\n")
        #expect(sidecar.argv == ["/bin/app", "--port", "80"] && values(config, "lxc.init.cmd") == ["/bin/app --port 80"])
        flags.command = ["sh", "-c", "echo a b"]
        #expect(values(try applied(flags, to: "lxc.init.cmd = /sbin/init\n").config, "lxc.init.cmd").isEmpty, "argv with spaces lives in swrun.json only")
    }

    @Test func volumesAreMountEntriesMadeWhereMissing() throws {
        let bind = VolumeMount(source: .bind("/tmp"), target: "/mnt/host dir", readOnly: true)
        #expect(bind.entryLine == "/tmp mnt/host\\040dir none bind,create=dir,ro 0 0")
        let tmpfs = VolumeMount(source: .tmpfs(options: ["size=1m"]), target: "/scratch")
        #expect(tmpfs.entryLine == "tmpfs scratch tmpfs nosuid,nodev,size=1m,create=dir 0 0")
        let entry = try MountEntry.parse(bind.entryLine, location: ConfigLocation(file: "t", line: 1))
        #expect(entry.source == "/tmp" && entry.target == "mnt/host dir")
    }

    @Test(arguments: [
        ("no", RestartPolicy.no), ("always", .always), ("unless-stopped", .unlessStopped),
        ("on-failure", .onFailure(limit: nil)), ("on-failure:3", .onFailure(limit: 3)),
    ])
    func restartPoliciesParseAndPrintBack(text: String, policy: RestartPolicy) throws {
        #expect(try RestartPolicy(parsing: text) == policy && policy.description == text)
    }

    @Test func restartPoliciesDecideAsDockersDo() throws {
        #expect(throws: SwrunError.self) { try RestartPolicy(parsing: "sometimes") }
        #expect(throws: SwrunError.self) { try RestartPolicy(parsing: "on-failure:x") }
        let twice = RestartPolicy.onFailure(limit: 2)
        #expect(twice.restarts(after: 1, restarts: 1) && !twice.restarts(after: 1, restarts: 2) && !twice.restarts(after: 0, restarts: 0))
        #expect(RestartPolicy.always.restarts(after: 0, restarts: 100) && !RestartPolicy.no.restarts(after: 1, restarts: 0))
    }

    @Test func sidecarKeepsTheFlagsLXCHasNoKeyFor() throws {
        var template = Array("/tmp/swrun-sidecar-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileSystem.removeTree(directory) }
        var sidecar = ContainerSidecar(image: "busybox")
        sidecar.labels = ["tier": "web"]
        sidecar.stopTimeout = 3
        sidecar.restart = .onFailure(limit: 2)
        sidecar.dnsServers = ["10.0.3.1"]
        sidecar.extraHosts = [try HostEntry(parsing: "db:10.0.3.50")]
        sidecar.created = 1_700_000_000
        sidecar.makesWorkingDirectory = true
        try sidecar.write(to: directory)
        #expect(try ContainerSidecar.load(from: directory) == sidecar)
        #expect(sidecar.stopTimeoutOrDefault == 3 && ContainerSidecar(image: "x").stopTimeoutOrDefault == 10 && ContainerSidecar().stopTimeoutOrDefault == 60)
        #expect(throws: SwrunError.self) { try HostEntry(parsing: "db:notanaddress") }
    }

    @Test func hostsAndResolvConfCarryTheFlags() {
        let hosts = NetworkFiles.hosts(existing: "127.0.0.1\tlocalhost\n", hostname: "web", address: nil, extraHosts: [try! HostEntry(parsing: "db:10.1.2.3")])
        #expect(hosts == "127.0.0.1\tlocalhost\n10.1.2.3\tdb \(NetworkFiles.marker)\n")
        let resolv = NetworkFiles.resolvConf(servers: ["9.9.9.9"], host: "nameserver 127.0.0.53\nsearch lan\n")
        #expect(resolv == "\(NetworkFiles.marker)\nnameserver 9.9.9.9\nsearch lan\n")
    }

    @Test func appArmorIsAppliedOnlyWhereTheKernelRunsIt() {
        #expect(AppArmor.execProfile("lxc-container-default", enabled: false) == (nil, nil))
        #expect(AppArmor.execProfile("lxc-container-default", enabled: true).profile == "lxc-container-default")
        #expect(AppArmor.execProfile("unconfined", enabled: true) == (nil, nil))
        let generated = AppArmor.execProfile("generated", enabled: true)
        #expect(generated.profile == nil && generated.warning?.contains("does not generate") == true)
    }
}
