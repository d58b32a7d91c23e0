import CLinux
import Foundation
import Glibc
@testable import SwrunImages
import SwrunSystem
import Testing

/// An upper directory written as an OCI layer, read back by swrun's own tar reader: every
/// kind of member, long names, numeric owners, allowed attributes, and overlayfs's whiteouts
/// and opaque directories turned into OCI's.
@Suite struct LayerDiffTests {
    @Test func anUpperDirectoryBecomesAnOCILayer() throws {
        let root = NSTemporaryDirectory() + "layerdiff-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let upper = root + "/upper", long = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 40)
        try FileManager.default.createDirectory(atPath: upper + "/" + long.split(separator: "/")[0], withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: upper + "/opaque", withIntermediateDirectories: true)
        try "content\n".write(toFile: upper + "/file", atomically: false, encoding: .utf8)
        try "deep\n".write(toFile: upper + "/" + long, atomically: false, encoding: .utf8)
        try "only\n".write(toFile: upper + "/opaque/only", atomically: false, encoding: .utf8)
        #expect(chown(upper + "/file", 1234, 5678) == 0 && link(upper + "/file", upper + "/second") == 0)
        #expect(symlink("file", upper + "/alias") == 0 && mkfifo(upper + "/pipe", 0o600) == 0)
        #expect(mknod(upper + "/gone", S_IFCHR | 0o600, 0) == 0, "a whiteout (needs root)")
        #expect(setxattr(upper + "/opaque", "trusted.overlay.opaque", "y", 1, 0) == 0)
        #expect(setxattr(upper + "/file", "user.note", "kept", 4, 0) == 0)

        let layer = try LayerDiff.write(upper, overlayMarks: true, to: root + "/layer.tar")
        #expect(layer.digest == "sha256:" + (try SHA256Check.file(root + "/layer.tar")))
        let again = try LayerDiff.write(upper, overlayMarks: true, to: root + "/again.tar")
        #expect(again.digest == layer.digest, "one tree, one digest")

        let reader = TarReader(try ArchiveOpener.inProcess.open(root + "/layer.tar"), name: "layer.tar")
        var entries: [String: TarEntry] = [:]
        var order: [String] = []
        while let entry = try reader.next() {
            entries[entry.path] = entry
            order.append(entry.path)
            if entry.kind == .file, entry.path == long { #expect(String(decoding: try reader.readAllData(), as: UTF8.self) == "deep\n") }
        }
        #expect(entries[".wh.gone"]?.kind == .file && entries["gone"] == nil)
        #expect(entries["opaque/.wh..wh..opq"] != nil && entries["opaque/only"] != nil)
        #expect(entries["file"]?.uid == 1234 && entries["file"]?.gid == 5678)
        #expect(entries["file"]?.extendedAttributes == ["user.note": Array("kept".utf8)])
        #expect(entries["opaque/"]?.extendedAttributes.isEmpty == true || entries["opaque"]?.extendedAttributes.isEmpty == true,
                "overlayfs's own attributes stay out")
        #expect(entries["second"]?.kind == .hardlink(target: "file"))
        #expect(entries["alias"]?.kind == .symlink(target: "file") && entries["pipe"]?.kind == .fifo)
        #expect(entries[long] != nil, "a name past 100 bytes, by a pax record")
        let directory = try #require(order.firstIndex { $0 == "opaque/" || $0 == "opaque" })
        #expect(directory < order.firstIndex(of: "opaque/.wh..wh..opq")! && directory < order.firstIndex(of: "opaque/only")!, "a directory before its members")
    }
}

enum SHA256Check {
    static func file(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
