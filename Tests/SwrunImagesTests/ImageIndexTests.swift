import SwrunImages
import SwrunJSON
import SwrunSystem
import Testing

@Suite struct LXCImageIndexTests {
    @Test func readsTheLegacyIndex() throws {
        let text = "debian;bookworm;amd64;default;20261129_05:24;/images/debian/bookworm/amd64/default/20261129_05:24/\n"
            + "alpine;3.20;arm64;default;20261128_13:00;/images/alpine/3.20/arm64/default/20261128_13:00\n"
        let images = try LXCImageIndex.parseLegacy(text, source: "index")
        #expect(images.count == 2)
        #expect(images[0].key == "debian/bookworm/amd64/default" && images[0].build == "20261129_05:24")
        #expect(images[1].directory.hasSuffix("/"))
    }

    @Test func aBadLegacyLineNamesItsLine() throws {
        let error = try #require(throws: SwrunError.self) { try LXCImageIndex.parseLegacy("a;b;c;d;e;/p\n<html>\n", source: "idx") }
        #expect(error.message.hasPrefix("idx:2:"))
    }

    @Test func readsSimplestreamsProductsWithChecksums() throws {
        let json = """
        {"format":"products:1.0","products":{"debian:bookworm:amd64:default":{"os":"Debian","release":"bookworm",
        "arch":"amd64","variant":"default","versions":{
          "20261128_05:24":{"items":{"root.tar.xz":{"ftype":"root.tar.xz","path":"images/debian/bookworm/amd64/default/20261128_05:24/rootfs.tar.xz","sha256":"aa","size":1}}},
          "20261129_05:24":{"items":{"root.tar.xz":{"ftype":"root.tar.xz","path":"images/debian/bookworm/amd64/default/20261129_05:24/rootfs.tar.xz","sha256":"bb","size":2},
                                     "meta.tar.xz":{"ftype":"meta.tar.xz","path":"images/debian/bookworm/amd64/default/20261129_05:24/meta.tar.xz","sha256":"cc","size":3}}}}},
        "vm:x:amd64:default":{"os":"X","release":"x","arch":"amd64","versions":{"1":{"items":{"disk.qcow2":{"ftype":"disk-kvm.img","path":"d","sha256":"dd"}}}}}}}
        """
        let images = try LXCImageIndex.parseProducts(try JSONValue(parsing: json), source: "images.json")
        #expect(images.count == 1)  // the product with no rootfs tarball is not offered
        let image = try #require(images.first)
        #expect(image.dist == "debian" && image.build == "20261129_05:24")
        #expect(image.directory == "/images/debian/bookworm/amd64/default/20261129_05:24/")
        #expect(image.sha256 == ["rootfs.tar.xz": "bb", "meta.tar.xz": "cc"] && image.sizes["meta.tar.xz"] == 3)
    }

    @Test func findsTheProductsFileInTheStreamsIndex() throws {
        let index = try JSONValue(parsing: #"{"index":{"images":{"datatype":"image-downloads","path":"streams/v1/images.json"}}}"#)
        #expect(try LXCImageIndex.productsPath(inStreamsIndex: index, source: "index.json") == "streams/v1/images.json")
        #expect(throws: SwrunError.self) { try LXCImageIndex.productsPath(inStreamsIndex: JSONValue(parsing: "{}"), source: "x") }
    }
}

@Suite struct DownloadOptionsTests {
    @Test func takesLXCsOptions() throws {
        let options = try DownloadOptions(arguments: ["-d", "debian", "--release=bookworm", "-a", "amd64", "--variant", "cloud",
                                                      "--server", "images.example.org/", "--no-validate", "--keyring", "k.gpg", "--flush-cache"])
        #expect(options.dist == "debian" && options.release == "bookworm" && options.arch == "amd64" && options.variant == "cloud")
        #expect(options.server == "https://images.example.org" && !options.validate && options.keyrings == ["k.gpg"] && options.flushCache)
        #expect(!options.listsOnly)
        #expect(try DownloadOptions(arguments: ["-d", "debian"]).listsOnly)
    }

    @Test func refusesUnknownAndContradictoryOptions() {
        #expect(throws: SwrunError.self) { try DownloadOptions(arguments: ["--dist"]) }
        #expect(throws: SwrunError.self) { try DownloadOptions(arguments: ["--bogus"]) }
        #expect(throws: SwrunError.self) { try DownloadOptions(arguments: ["--flush-cache", "--force-cache"]) }
    }
}

@Suite struct TemplateConfigTests {
    @Test func resolvesTheTemplateIncludes() throws {
        let text = "# image config\nlxc.include = LXC_TEMPLATE_CONFIG/debian.common.conf\n\nlxc.arch = x86_64\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n"
        let settings = try TemplateConfig.imageSettings(of: text, source: "config").settings
        #expect(!settings.contains { $0.key == "lxc.include" })
        #expect(settings.contains { $0.key == "lxc.cap.drop" } && settings.contains { $0 == (key: "lxc.arch", value: "x86_64") })
        #expect(settings.last?.key == "lxc.mount.auto")
    }

    @Test func anUnknownIncludeIsAnError() throws {
        let error = try #require(throws: SwrunError.self) {
            try TemplateConfig.imageSettings(of: "lxc.include = LXC_TEMPLATE_CONFIG/nesting.conf\n", source: "config")
        }
        #expect(error.message.contains("config:1") && error.message.contains("nesting.conf"))
    }

    /// An image's config was copied whole: hooks that run on the host, mounts, idmaps,
    /// capabilities, seccomp, includes of host files. Only what LXC's images use is taken.
    @Test func takesOnlyTheKeysAnImageMaySet() throws {
        let text = """
        lxc.include = LXC_TEMPLATE_CONFIG/common.conf
        lxc.arch = x86_64
        lxc.hook.pre-start = /bin/sh -c 'touch /host-owned'
        lxc.hook.start-host = /tmp/x
        lxc.mount.entry = / host none bind 0 0
        lxc.mount.entry = /etc etc2 none bind 0 0
        lxc.idmap = u 0 0 1
        lxc.cap.keep = sys_admin
        lxc.seccomp.profile = /dev/null
        lxc.apparmor.profile = unconfined
        lxc.include = /etc/lxc/other.conf
        lxc.tty.max = 100000
        lxc.uts.name = box
        lxc.signal.halt = SIGRTMIN+3
        lxc.tty.max = 6
        lxc.pty.max = 64
        """
        let image = try TemplateConfig.imageSettings(of: text, source: "config")
        #expect(image.leftOut == ["lxc.hook.pre-start", "lxc.hook.start-host", "lxc.mount.entry", "lxc.idmap", "lxc.cap.keep",
                                  "lxc.seccomp.profile", "lxc.apparmor.profile", "lxc.include", "lxc.tty.max"])
        // What the include stands for is swrun's own, mount entries among them.
        let common = try TemplateConfig.imageSettings(of: "lxc.include = LXC_TEMPLATE_CONFIG/common.conf", source: "c").settings
        #expect(common.contains { $0.key == "lxc.mount.entry" })
        #expect(image.settings.prefix(common.count).map(\.key) == common.map(\.key))
        let own = image.settings.dropFirst(common.count).map { "\($0.key) = \($0.value)" }
        #expect(own == ["lxc.arch = x86_64", "lxc.uts.name = box", "lxc.signal.halt = SIGRTMIN+3", "lxc.tty.max = 6", "lxc.pty.max = 64"])
    }
}

@Suite struct ImageBuildTimeTests {
    @Test func lxcBuildNamesAreTimesInUTC() throws {
        func image(_ build: String) throws -> LXCImage {
            try #require(try LXCImageIndex.parseLegacy("d;r;a;v;\(build);/p/\n", source: "index").first)
        }
        #expect(try image("20261129_05:24").buildTime == 1_795_929_840)
        #expect(try image("19700101_00:00").buildTime == 0)
        for other in ["dev", "20261129", "20261329_05:24", "20261129_25:00", "2026112a_05:24", "20261129_05-24", "20261129_05:245"] {
            #expect(try image(other).buildTime == nil, "\(other)")
        }
    }

    @Test func gpgvGivesWhenASignatureWasMade() {
        let seconds = "[GNUPG:] VALIDSIG ABCDEF 2026-11-29 1795929840 0 4 0 1 10 00 ABCDEF\n"
        #expect(SignatureCheck.outcome(of: seconds) == "good ABCDEF at 1795929840")
        let iso = "[GNUPG:] VALIDSIG ABCDEF 2026-11-29 20261129T052400 0 4 0 1 10 00 ABCDEF\n"
        #expect(SignatureCheck.outcome(of: iso) == "good ABCDEF at 1795929840")
    }
}

@Suite struct SignatureStatusTests {
    @Test func readsGpgvStatusLines() {
        #expect(SignatureCheck.outcome(of: "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 1234 x\n[GNUPG:] VALIDSIG ABCDEF 2026\n") == "good ABCDEF")
        #expect(SignatureCheck.outcome(of: "[GNUPG:] BADSIG 1234 x\n") == "bad 1234")
        #expect(SignatureCheck.outcome(of: "[GNUPG:] ERRSIG 99AA 1 8 00\n[GNUPG:] NO_PUBKEY 99AA\n") == "unknown 99AA")
        #expect(SignatureCheck.outcome(of: "") == "unreadable")
    }
}
