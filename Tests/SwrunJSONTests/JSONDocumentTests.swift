import Testing
import SwrunJSON

/// Shapes swrun reads from image servers and registries.
@Suite struct JSONDocumentTests {
    @Test func dockerManifestListPicksAPlatform() throws {
        let list = try JSONValue(parsing: """
            {
               "schemaVersion": 2,
               "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
               "manifests": [
                  {
                     "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                     "size": 528,
                     "digest": "sha256:1d7b4bd5a0c4d5e6b9e9d2b4f8b3c7a4f1e2d3c4b5a69788796a5b4c3d2e1f00",
                     "platform": {"architecture": "amd64", "os": "linux"}
                  },
                  {
                     "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                     "size": 529,
                     "digest": "sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
                     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}
                  }
               ]
            }
            """)
        #expect(list["schemaVersion"]?.int == 2)
        let arm = try #require(list["manifests"]?.array?.first { $0["platform"]?["architecture"]?.string == "arm64" })
        #expect(arm["digest"]?.string == "sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0")
        #expect(arm["size"]?.int64 == 529)
        #expect(arm["platform"]?["variant"]?.string == "v8")
        #expect(list["manifests"]?[0]?["platform"]?["variant"] == nil)
    }

    @Test func ociImageConfigGivesTheProcess() throws {
        let config = try JSONValue(parsing: """
            {"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],\
            "Cmd":["/bin/sh","-c","echo \\"hi\\""],"WorkingDir":"","Entrypoint":null,"Labels":{}},\
            "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},"history":[{"created":"2024-01-01T00:00:00Z"}]}
            """)
        #expect(config["config"]?["Cmd"] == ["/bin/sh", "-c", "echo \"hi\""])
        #expect(config["config"]?["Env"]?[0]?.string?.hasPrefix("PATH=") == true)
        #expect(config["config"]?["Entrypoint"]?.isNull == true)
        #expect(config["config"]?["WorkingDir"]?.string == "")
        #expect(config["rootfs"]?["diff_ids"]?.array?.compactMap(\.string) == ["sha256:aa", "sha256:bb"])
    }

    @Test func registryTokenResponse() throws {
        let reply = try JSONValue(parsing: #"{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","expires_in":300,"issued_at":"2024-05-01T10:00:00.123456789Z"}"#)
        #expect(reply["token"]?.string == "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        #expect(reply["expires_in"]?.int == 300)
        #expect(reply["refresh_token"] == nil)
    }

    @Test func simplestreamsIndexListsTheImagesFile() throws {
        let index = try JSONValue(parsing: """
            {
                "format": "index:1.0",
                "index": {
                    "images": {
                        "datatype": "image-downloads",
                        "path": "streams/v1/images.json",
                        "format": "products:1.0",
                        "products": ["alpine:3.19:amd64:default", "ubuntu:jammy:amd64:default"]
                    }
                }
            }
            """)
        #expect(index["format"]?.string == "index:1.0")
        #expect(index["index"]?["images"]?["path"]?.string == "streams/v1/images.json")
        #expect(index["index"]?["images"]?["products"]?[1]?.string == "ubuntu:jammy:amd64:default")
    }

    @Test func simplestreamsImagesGiveTheNewestRootfs() throws {
        let images = try JSONValue(parsing: """
            {"content_id": "images", "datatype": "image-downloads", "format": "products:1.0",
             "products": {"ubuntu:jammy:amd64:default": {
                "aliases": "ubuntu/jammy/default,ubuntu/22.04", "arch": "amd64", "os": "Ubuntu", "release": "jammy",
                "versions": {
                  "20240101_07:42": {"items": {"root.tar.xz": {"ftype": "root.tar.xz", "size": 111,
                      "path": "images/ubuntu/jammy/amd64/default/20240101_07:42/rootfs.tar.xz", "sha256": "aa"}}},
                  "20240102_07:42": {"items": {
                      "lxd.tar.xz": {"ftype": "lxd.tar.xz", "size": 876, "path": "images/ubuntu/jammy/amd64/default/20240102_07:42/lxd.tar.xz",
                          "sha256": "bb", "combined_squashfs_sha256": "cc"},
                      "root.tar.xz": {"ftype": "root.tar.xz", "size": 93847562,
                          "path": "images/ubuntu/jammy/amd64/default/20240102_07:42/rootfs.tar.xz",
                          "sha256": "43f5a0ac6ac8e0c3d32ae4fe4efc3fa8e1d1e0e4f6c06a9e5a5b6f2a38c0e0d1"}}}
                }}}}
            """)
        let product = try #require(images["products"]?["ubuntu:jammy:amd64:default"])
        #expect(product["aliases"]?.string?.split(separator: ",").contains("ubuntu/22.04") == true)
        let newest = try #require(product["versions"]?.object?.keys.max())
        #expect(newest == "20240102_07:42")
        let rootfs = try #require(product["versions"]?[newest]?["items"]?["root.tar.xz"])
        #expect(rootfs["size"]?.int64 == 93_847_562)
        #expect(rootfs["path"]?.string == "images/ubuntu/jammy/amd64/default/20240102_07:42/rootfs.tar.xz")
        #expect(rootfs["sha256"]?.string?.count == 64)
    }

    @Test func aLargeImagesFileParses() throws {
        // About 5 MB, the size of images.linuxcontainers.org's images.json.
        let product = #"{"arch":"amd64","os":"Debian","versions":{"20240101_05:24":{"items":{"root.tar.xz":{"ftype":"root.tar.xz","size":93847562,"sha256":"43f5a0ac6ac8e0c3d32ae4fe4efc3fa8e1d1e0e4f6c06a9e5a5b6f2a38c0e0d1","path":"images/debian/bookworm/amd64/default/20240101_05:24/rootfs.tar.xz"}}}}}"#
        let count = 20_000
        let text = #"{"products":{"# + (0..<count).map { #""p\#($0)":"# + product }.joined(separator: ",") + "}}"
        #expect(text.utf8.count > 5_000_000)
        let images = try JSONValue(parsing: text)
        #expect(images["products"]?.object?.count == count)
        #expect(images["products"]?["p19999"]?["versions"]?["20240101_05:24"]?["items"]?["root.tar.xz"]?["size"]?.int == 93_847_562)
    }
}
