import SwrunHTTP
import SwrunImages
import SwrunJSON
import SwrunSystem
import Testing

/// Layers are checked against the config's rootfs.diff_ids while they unpack: the digest
/// is of the uncompressed tar, so a gzip layer's blob digest and its diff_id differ.
@Suite struct DiffIDTests {
    let scratch: ScratchDirectory
    let store: OCIStore
    let reference: ImageReference
    /// Two layers, the second gzip-compressed, as (blob bytes, diff_id).
    let layers: [(blob: [UInt8], diffID: String)]

    init() throws {
        scratch = try ScratchDirectory()
        store = OCIStore(root: scratch.join("cache"))
        reference = try ImageReference("localhost:5000/test/diff:ids")
        var first = TarBuilder()
        first.directory("etc")
        first.file("etc/first", "first\n")
        var second = TarBuilder()
        second.file("etc/second", "second\n")
        let path = scratch.join("second.tar")
        try second.write(to: path)
        let (status, gzipped) = try Subprocess.run(["gzip", "-n", "-c", path])
        #expect(status == 0)
        layers = [(first.archive, "sha256:" + SHA256.hexDigest(of: first.archive)),
                  (gzipped, "sha256:" + SHA256.hexDigest(of: second.archive))]
    }

    /// Puts the image in the cache as a pull would leave it, with `diffIDs` in its config.
    func cache(diffIDs: [String]?) throws {
        try FileSystem.makeDirectories(scratch.join("cache/oci/blobs/sha256"), mode: 0o755)
        func blob(_ bytes: [UInt8]) throws -> JSONValue {
            let hex = SHA256.hexDigest(of: bytes)
            try FileSystem.writeAtomically(store.blobPath("sha256:" + hex), bytes)
            return .object(["digest": .string("sha256:" + hex), "size": .number(String(bytes.count)),
                            "mediaType": .string("application/vnd.oci.image.layer.v1.tar")])
        }
        var config: [String: JSONValue] = ["architecture": .string("amd64"), "os": .string("linux")]
        if let diffIDs { config["rootfs"] = .object(["type": .string("layers"), "diff_ids": .array(diffIDs.map(JSONValue.string))]) }
        let manifest = JSONValue.object([
            "schemaVersion": .number("2"), "mediaType": .string(MediaType.ociManifest),
            "config": try blob(Array(JSONValue.object(config).serialized.utf8)),
            "layers": .array(try layers.map { try blob($0.blob) }),
        ])
        let bytes = Array(manifest.serialized.utf8)
        _ = try blob(bytes)
        let ref = scratch.join("cache/oci/refs/localhost:5000/test/diff/ids")
        try FileSystem.makeDirectories(FileSystem.parentPath(ref), mode: 0o755)
        try FileSystem.writeAtomically(ref, "sha256:" + SHA256.hexDigest(of: bytes) + "\n")
    }

    func install() throws {
        let rootfs = scratch.join("rootfs")
        try FileSystem.makeDirectories(rootfs, mode: 0o755)
        try OCITemplate(reference: reference, store: store, report: { _ in }).install(rootfs: rootfs, name: "test", report: { _ in })
    }

    @Test func layersThatMatchTheirDiffIDsUnpack() throws {
        try cache(diffIDs: layers.map(\.diffID))
        try install()
        #expect(try FileSystem.readText(scratch.join("rootfs/etc/second")) == "second\n")
    }

    @Test func aTamperedDiffIDStopsTheUnpackNamingTheLayer() throws {
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        try cache(diffIDs: [layers[0].diffID, wrong])
        let error = #expect(throws: SwrunError.self) { try install() }
        let layerDigest = "sha256:" + SHA256.hexDigest(of: layers[1].blob)
        #expect(error?.code == .verificationFailed)
        #expect(error?.message.contains("layer 2/2 (\(layerDigest.prefix(19)))") == true, "\(String(describing: error))")
        #expect(error?.message.contains(layers[1].diffID) == true && error?.message.contains(wrong) == true)
        #expect(error?.hint?.contains("swrun image rm \(reference)") == true)
    }

    @Test func aConfigWithoutDiffIDsIsRefusedBeforeAnythingIsUnpacked() throws {
        try cache(diffIDs: nil)
        let error = #expect(throws: SwrunError.self) { try install() }
        #expect(error?.message.contains("rootfs.diff_ids") == true)
        #expect(!FileSystem.exists(scratch.join("rootfs/etc")))
    }
}
