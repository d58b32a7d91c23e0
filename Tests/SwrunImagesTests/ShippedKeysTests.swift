import SwrunImages
import SwrunSystem
import Testing

/// packaging/keys, found from this file's place in the tree.
private let packagedKeys = FileSystem.join(FileSystem.parentPath(FileSystem.parentPath(FileSystem.parentPath(#filePath))), "packaging/keys")

@Suite struct ShippedKeysTests {
    /// The key LXC's download template pins (DOWNLOAD_KEYID), and nothing else.
    @Test func theLXCImageServersKeyIsLXCsPreBuiltImagesKey() throws {
        let scratch = try ScratchDirectory()  // gpg's home: the host's ~/.gnupg is never touched
        let (status, output) = try Subprocess.run(["gpg", "--homedir", scratch.path, "--batch", "--with-colons", "--show-keys",
                                                   packagedKeys + "/images.linuxcontainers.org.gpg"], quiet: true)
        #expect(status == 0)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("pub:") }.count == 1)
        #expect(lines.first { $0.hasPrefix("fpr:") }?.split(separator: ":", omittingEmptySubsequences: false)[9] == "E7FB0CAEC8173D669066514CBAEFF88C22F6E216")
        #expect(lines.contains { $0.hasPrefix("uid:") && $0.contains("LXC pre-built images <lxc-devel@lists.linuxcontainers.org>") })
    }

    @Test func itChecksTheImagesOfThatServerOnly() throws {
        let lxc = DownloadTemplate(options: DownloadOptions(), cacheRoot: "/nonexistent", keysDirectory: packagedKeys,
                                   unprivileged: false, report: { _ in })
        #expect(lxc.shippedKeyring == packagedKeys + "/images.linuxcontainers.org.gpg")
        let other = DownloadTemplate(options: try DownloadOptions(arguments: ["--server", "https://images.example.org"]),
                                     cacheRoot: "/nonexistent", keysDirectory: packagedKeys, unprivileged: false, report: { _ in })
        #expect(other.shippedKeyring == nil)
    }
}
