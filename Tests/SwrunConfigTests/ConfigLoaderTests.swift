import SwrunConfig
import SwrunSystem
import Testing

@Suite struct ConfigLoaderTests {
    @Test func includeOfAFileIsReplacedByItsSettings() throws {
        try withTemporaryDirectory { dir in
            try dir.write("common.conf", "lxc.pty.max = 1024\nlxc.cap.drop = sys_module\n")
            let config = try dir.write("config", "lxc.uts.name = a\nlxc.include = \(dir.path)/common.conf\nlxc.cap.drop = sys_time\n")
            let settings = try ConfigLoader().settings(ofFile: config)
            #expect(settings.map(\.key) == ["lxc.uts.name", "lxc.pty.max", "lxc.cap.drop", "lxc.cap.drop"])
            #expect(settings[1].location == ConfigLocation(file: "\(dir.path)/common.conf", line: 1))
            #expect(settings[3].location == ConfigLocation(file: config, line: 3))
        }
    }

    @Test func includeOfADirectoryReadsItsConfFilesInNameOrder() throws {
        try withTemporaryDirectory { dir in
            try dir.write("d/20-b.conf", "lxc.environment = B=2\n")
            try dir.write("d/10-a.conf", "lxc.environment = A=1\n")
            try dir.write("d/notes.txt", "lxc.environment = TXT=1\n")
            try dir.write("d/30-c.conf.bak", "lxc.environment = BAK=1\n")
            try dir.write("d/.conf", "lxc.environment = DOT=1\n")
            try dir.write("d/sub.conf/x.conf", "lxc.environment = SUB=1\n")
            let config = try dir.write("config", "lxc.include = \(dir.path)/d\n")
            let values = try ConfigLoader().settings(ofFile: config).map(\.value)
            #expect(values == ["A=1", "B=2"])
        }
    }

    @Test func relativeIncludesAreTakenFromTheIncludingFile() throws {
        try withTemporaryDirectory { dir in
            try dir.write("c/net.conf", "lxc.net.0.type = empty\n")
            try dir.write("c/main.conf", "lxc.include = net.conf\n")
            let config = try dir.write("config", "lxc.include = c/main.conf\n")
            #expect(try ConfigLoader().settings(ofFile: config).map(\.key) == ["lxc.net.0.type"])
        }
    }

    @Test func templateConfigPlaceholderIsReplaced() throws {
        try withTemporaryDirectory { dir in
            try dir.write("templates/common.conf", "lxc.tty.max = 4\n")
            let config = try dir.write("config", "lxc.include = LXC_TEMPLATE_CONFIG/common.conf\n")
            let loader = ConfigLoader(templateConfigDirectory: "\(dir.path)/templates")
            #expect(try loader.settings(ofFile: config).map(\.value) == ["4"])
        }
    }

    @Test func aMissingDirectoryWithATrailingSlashIsSkipped() throws {
        try withTemporaryDirectory { dir in
            let config = try dir.write("config", "lxc.include = \(dir.path)/common.conf.d/\nlxc.uts.name = a\n")
            #expect(try ConfigLoader().settings(ofFile: config).map(\.key) == ["lxc.uts.name"])
        }
    }

    @Test func aMissingFileIsAnErrorAtTheIncludeLine() throws {
        try withTemporaryDirectory { dir in
            let config = try dir.write("config", "# x\nlxc.include = \(dir.path)/missing.conf\n")
            let error = swrunError { _ = try ConfigLoader().settings(ofFile: config) }
            #expect(error?.code == .notFound)
            #expect(error?.message.hasPrefix("\(config):2: cannot include '\(dir.path)/missing.conf'") == true)
        }
    }

    @Test func anErrorInAnIncludedFileSaysWhereItWasIncluded() throws {
        try withTemporaryDirectory { dir in
            let common = try dir.write("common.conf", "lxc.bogus = 1\n")
            let config = try dir.write("config", "lxc.include = \(common)\n")
            let error = swrunError { _ = try ConfigLoader().settings(ofFile: config) }
            #expect(error?.message == "\(common):1: unknown configuration key 'lxc.bogus' (included from \(config):1)")
        }
    }

    @Test func anIncludeCycleIsAnErrorNamingTheIncludeLine() throws {
        try withTemporaryDirectory { dir in
            let a = "\(dir.path)/a.conf", b = "\(dir.path)/b.conf"
            try dir.write("a.conf", "lxc.uts.name = a\nlxc.include = \(b)\n")
            try dir.write("b.conf", "# b\n\nlxc.include = \(a)\n")
            let error = swrunError { _ = try ConfigLoader().settings(ofFile: a) }
            #expect(error?.code == .invalidConfig)
            #expect(error?.message.hasPrefix("\(b):3: lxc.include makes a cycle:") == true)
        }
    }

    @Test func aFileIncludingItselfThroughADirectoryIsACycle() throws {
        try withTemporaryDirectory { dir in
            let file = try dir.write("d/self.conf", "lxc.include = \(dir.path)/d/\n")
            let error = swrunError { _ = try ConfigLoader().settings(ofFile: file) }
            #expect(error?.message.hasPrefix("\(file):1: lxc.include makes a cycle") == true)
        }
    }

    @Test func theSameFileTwiceIsNoCycle() throws {
        try withTemporaryDirectory { dir in
            let common = try dir.write("common.conf", "lxc.environment = A=1\n")
            let config = try dir.write("config", "lxc.include = \(common)\nlxc.include = \(common)\n")
            #expect(try ConfigLoader().settings(ofFile: config).count == 2)
        }
    }

    @Test func containerConfigLoadExpandsIncludes() throws {
        try withTemporaryDirectory { dir in
            try dir.write("common.conf", "lxc.cap.drop = sys_module\n")
            let config = try dir.write("config", "lxc.include = common.conf\nlxc.rootfs.path = dir:/r\n")
            let loaded = try ContainerConfig.load(config)
            #expect(loaded.capDrop == ["sys_module"])
            #expect(loaded.rootfsPath == "/r")
        }
    }
}
