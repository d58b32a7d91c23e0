import Glibc
import SwrunConfig
import SwrunSystem
import Testing

@Suite struct ConfigFileTests {
    static let handWritten = """
        # Template used to create this container: /usr/share/lxc/templates/lxc-download
        \t# indented comment

        lxc.include = /usr/share/lxc/config/common.conf
        lxc.rootfs.path=dir:/var/lib/lxc/web/rootfs
        \tlxc.uts.name   =\tweb\t
        lxc.mount.entry = /srv srv none bind,create=dir 0 0
          lxc.environment = GREETING="hello world"
        lxc.init.cmd = '/sbin/init --log-level=debug'
        lxc.cap.drop =
        lxc.net.0.type = empty
        """

    @Test func roundTripIsByteIdentical() throws {
        let file = try ConfigFile(text: Self.handWritten, path: "web.conf")
        #expect(file.rendered() == Self.handWritten)
    }

    @Test(arguments: [
        "lxc.uts.name = a\nlxc.arch = x86_64",                // no final newline
        "lxc.uts.name = a\r\n# comment\r\n\r\nlxc.arch = x86_64\r\n",  // CRLF kept as written
        "\n\n\n",
        "",
        "lxc.uts.name = a\n\n",
        "   \t\n# only comments\n",
    ])
    func roundTripKeepsLineEnds(text: String) throws {
        #expect(try ConfigFile(text: text, path: "x.conf").rendered() == text)
    }

    @Test func crlfValuesDoNotKeepTheCarriageReturn() throws {
        let file = try ConfigFile(text: "lxc.uts.name = web\r\nlxc.pty.max = 10\r\n", path: "x.conf")
        #expect(file.settings.map(\.value) == ["web", "10"])
    }

    @Test func settingsAreInFileOrderWithLocations() throws {
        let file = try ConfigFile(text: Self.handWritten, path: "web.conf")
        #expect(file.settings.map(\.key) == [
            "lxc.include", "lxc.rootfs.path", "lxc.uts.name", "lxc.mount.entry", "lxc.environment",
            "lxc.init.cmd", "lxc.cap.drop", "lxc.net.0.type",
        ])
        #expect(file.settings[2] == ConfigSetting(key: "lxc.uts.name", value: "web", location: ConfigLocation(file: "web.conf", line: 6)))
        #expect(file.settings[2].location.description == "web.conf:6")
    }

    @Test(arguments: [
        ("lxc.uts.name = web", "web"),
        ("lxc.uts.name=web", "web"),
        ("lxc.uts.name =   web   ", "web"),
        ("lxc.uts.name = \"web\"", "web"),
        ("lxc.uts.name = 'web'", "web"),
        ("lxc.uts.name = 'web\"", "'web\""),          // quotes only go in matching pairs
        ("lxc.uts.name = '", "'"),
        ("lxc.uts.name = \" two spaces \"", " two spaces "),
        ("lxc.uts.name = web # not a comment", "web # not a comment"),  // LXC has no trailing comments
        ("lxc.environment = A=b=c", "A=b=c"),           // the first '=' splits
        ("lxc.cap.drop =", ""),
    ])
    func valueParsing(line: String, value: String) throws {
        #expect(try ConfigFile(text: line, path: "x.conf").settings.first?.value == value)
    }

    @Test func setRewritesTheLastLineInPlace() throws {
        var file = try ConfigFile(text: Self.handWritten, path: "web.conf")
        file.set("lxc.uts.name", "db")
        let expected = Self.handWritten.replacingOnce("\tlxc.uts.name   =\tweb\t", with: "\tlxc.uts.name   =\tdb\t")
        #expect(file.rendered() == expected)
    }

    @Test func setKeepsQuotesAndAddsThemWhenNeeded() throws {
        var file = try ConfigFile(text: "lxc.init.cmd = '/sbin/init'\nlxc.uts.name=a", path: "x.conf")
        file.set("lxc.init.cmd", "/bin/sh -c true")
        file.set("lxc.uts.name", " padded ")
        #expect(file.rendered() == "lxc.init.cmd = '/bin/sh -c true'\nlxc.uts.name=\" padded \"")
        let reread = try ConfigFile(text: file.rendered(), path: "x.conf")
        #expect(reread.settings.map(\.value) == ["/bin/sh -c true", " padded "])
    }

    @Test func setOfAnAbsentKeyAppendsAfterALineWithoutNewline() throws {
        var file = try ConfigFile(text: "# c\nlxc.uts.name = a", path: "x.conf")
        file.set("lxc.arch", "x86_64")
        #expect(file.rendered() == "# c\nlxc.uts.name = a\nlxc.arch = x86_64\n")
    }

    @Test func appendUsesTheFilesLineEnding() throws {
        var file = try ConfigFile(text: "lxc.uts.name = a\r\n", path: "x.conf")
        file.append("lxc.mount.entry", "/a a none bind 0 0")
        #expect(file.rendered() == "lxc.uts.name = a\r\nlxc.mount.entry = /a a none bind 0 0\r\n")
    }

    @Test func setOfAListKeyLeavesOneLine() throws {
        var file = try ConfigFile(text: "lxc.cap.drop = a\n# keep me\nlxc.cap.drop  =  b\n", path: "x.conf")
        file.set("lxc.cap.drop", "sys_time")
        #expect(file.rendered() == "# keep me\nlxc.cap.drop  =  sys_time\n")
    }

    @Test func setOfASingleKeyLeavesEarlierLinesAlone() throws {
        var file = try ConfigFile(text: "lxc.uts.name = a\nlxc.uts.name = b\n", path: "x.conf")
        file.set("lxc.uts.name", "c")
        #expect(file.rendered() == "lxc.uts.name = a\nlxc.uts.name = c\n")
    }

    @Test func aLineBreakInAValueBecomesASpace() throws {
        var file = try ConfigFile(text: "", path: "x.conf")
        file.append("lxc.uts.name", "a\nb")
        #expect(file.rendered() == "lxc.uts.name = a b\n")
    }

    @Test func removeAllDropsOnlyThatKey() throws {
        var file = try ConfigFile(text: "lxc.cap.drop = a\n# c\nlxc.cap.drop = b\nlxc.uts.name = x\n", path: "x.conf")
        file.removeAll("lxc.cap.drop")
        #expect(file.rendered() == "# c\nlxc.uts.name = x\n")
    }

    @Test(arguments: [
        ("# c\nlxc.foo = 1\n", "x.conf:2: unknown configuration key 'lxc.foo'"),
        ("lxc.uts.name = a\n\nlxc.uts.name\n", "x.conf:3: missing '=' in 'lxc.uts.name'"),
        ("utsname = a\n", "x.conf:1: 'utsname' is not an LXC key (keys start with 'lxc.')"),
        ("lxc.net.x.type = veth\n", "x.conf:1: unknown configuration key 'lxc.net.x.type'"),
        ("lxc.net.0.tpye = veth\n", "x.conf:1: unknown configuration key 'lxc.net.0.tpye'"),
        ("lxc.hook.prestart = /bin/true\n", "x.conf:1: unknown configuration key 'lxc.hook.prestart'"),
        ("lxc.prlimit.nofiles = 10\n", "x.conf:1: unknown configuration key 'lxc.prlimit.nofiles'"),
    ])
    func badLinesNameFileAndLine(text: String, message: String) {
        let error = swrunError { _ = try ConfigFile(text: text, path: "x.conf") }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message == message)
        #expect(error?.hint != nil)
    }

    @Test(arguments: [
        ("lxc.rootfs.pth", "did you mean 'lxc.rootfs.path'?"),
        ("lxc.net.1.tpye", "did you mean 'lxc.net.1.type'?"),
        ("lxc.cgrup2.memory.max", "did you mean 'lxc.cgroup2.memory.max'?"),
        ("lxc.hook.prestart", "did you mean 'lxc.hook.pre-start'?"),
        ("lxc.foo", "see lxc.container.conf(5) for the keys LXC accepts; fix or remove the line"),
        ("lxc.utsname", "'lxc.utsname' was renamed 'lxc.uts.name' in LXC 3.0; lxc-update-config converts old configs"),
    ])
    func unknownKeyHints(key: String, hint: String) {
        let error = swrunError { _ = try ConfigFile(text: "\(key) = 1", path: "x.conf") }
        #expect(error?.hint == hint)
    }

    @Test func writeReplacesTheFileAndKeepsItsMode() throws {
        try withTemporaryDirectory { dir in
            let path = try dir.write("config", "lxc.uts.name = a\n")
            chmod(path, 0o600)
            var file = try ConfigFile.load(path)
            file.set("lxc.uts.name", "b")
            try file.write()
            #expect(try FileSystem.readText(path) == "lxc.uts.name = b\n")
            var st = stat()
            #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        }
    }

    @Test func loadOfAMissingFileIsNotFound() {
        let error = swrunError { _ = try ConfigFile.load("/nonexistent/swrun/config") }
        #expect(error?.code == .notFound)
    }
}

extension String {
    /// Replaces the first occurrence, so expectations can be written as edits of the original.
    func replacingOnce(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
