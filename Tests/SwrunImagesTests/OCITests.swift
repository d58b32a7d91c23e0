import SwrunImages
import SwrunJSON
import SwrunSystem
import Testing

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("alpine", "docker.io", "library/alpine", "latest"),
        ("centos:7", "docker.io", "library/centos", "7"),
        ("docker.io/library/centos:7", "docker.io", "library/centos", "7"),
        ("quay.io/podman/hello:latest", "quay.io", "podman/hello", "latest"),
        ("localhost:5000/fixture/busybox:multi", "localhost:5000", "fixture/busybox", "multi"),
        ("127.0.0.1:35000/a", "127.0.0.1:35000", "a", "latest"),
        ("user/app", "docker.io", "user/app", "latest"),
    ])
    func parsesAsDockerDoes(text: String, registry: String, repository: String, tag: String) throws {
        let reference = try ImageReference(text)
        #expect(reference.registry == registry && reference.repository == repository && reference.tag == tag)
    }

    @Test func digestsAndDockerHubsAPIHost() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try ImageReference("busybox@" + digest)
        #expect(reference.tag == nil && reference.digest == digest && reference.manifestReference == digest)
        #expect(reference.apiHost == "registry-1.docker.io")
        #expect(reference.description == "docker.io/library/busybox@" + digest)
    }

    @Test(arguments: ["", "UPPER/case", "a@sha256:short", "a:", "a//b", "a:bad tag"])
    func refusesMalformedReferences(text: String) {
        #expect(throws: SwrunError.self) { try ImageReference(text) }
    }
}

@Suite struct ManifestTests {
    let index = try! JSONValue(parsing: """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "1", count: 64))","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "2", count: 64))","size":11,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "3", count: 64))","size":12,"platform":{"os":"linux","architecture":"amd64"}},
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "4", count: 64))","size":13,"platform":{"os":"windows","architecture":"amd64"}}]}
        """)

    @Test func picksThisMachinesPlatform() throws {
        #expect(try ImageManifest.select(from: index, architecture: "amd64", variant: nil, source: "i").size == 12)
        #expect(try ImageManifest.select(from: index, architecture: "arm64", variant: "v8", source: "i").size == 11)
        let error = try #require(throws: SwrunError.self) { try ImageManifest.select(from: index, architecture: "s390x", variant: nil, source: "i") }
        #expect(error.hint?.contains("linux/arm64/v8") == true)
        #expect(ImageManifest.platform(machine: "x86_64").architecture == "amd64")
        #expect(ImageManifest.platform(machine: "aarch64") == ("arm64", "v8"))
    }

    @Test func readsAManifestAndRefusesForeignLayers() throws {
        let good = try JSONValue(parsing: """
            {"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(String(repeating: "a", count: 64))","size":5},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:\(String(repeating: "b", count: 64))","size":6}]}
            """)
        let manifest = try ImageManifest(good, source: "m")
        #expect(manifest.layers.count == 1 && manifest.config.size == 5)
        let foreign = try JSONValue(parsing: """
            {"config":{"digest":"sha256:\(String(repeating: "a", count: 64))","size":5},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"sha256:\(String(repeating: "b", count: 64))","size":6}]}
            """)
        #expect(throws: SwrunError.self) { try ImageManifest(foreign, source: "m") }
        let md5 = try JSONValue(parsing: #"{"config":{"digest":"md5:abc","size":1},"layers":[]}"#)
        #expect(throws: SwrunError.self) { try ImageManifest(md5, source: "m") }
    }

    @Test func theImageConfigGivesTheRunSettings() throws {
        let config = try JSONValue(parsing: #"{"config":{"Env":["PATH=/bin","A=b c"],"Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"WorkingDir":"/srv","User":"1000:100"}}"#)
        let run = ImageRunConfig(config)
        #expect(run.argv == ["/bin/sh", "-c", "echo hi"] && run.environment == ["PATH=/bin", "A=b c"])
        #expect(run.workingDirectory == "/srv" && run.user == "1000:100")
        #expect(ImageRunConfig(try JSONValue(parsing: #"{"config":{"WorkingDir":""}}"#)).workingDirectory == nil)
    }
}

@Suite struct RegistryChallengeTests {
    @Test func readsABearerChallenge() {
        let parameters = RegistryClient.challengeParameters(#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/centos:pull""#)
        #expect(parameters == ["realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/centos:pull"])
        #expect(RegistryClient.percentEncoded("repository:a/b:pull push") == "repository:a/b:pull%20push")
    }
}

@Suite struct RegistrySecurityTests {
    @Test(arguments: ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "[0:0:0:0:0:0:0:1]", "LOCALHOST:80"])
    func aRegistryOnThisMachineMayUsePlainHTTP(_ registry: String) {
        #expect(RegistrySecurity(insecureRegistries: []).allowsPlainHTTP(registry))
    }

    /// The old test was a prefix: `localhost.example.org` and `127.0.0.1.example.org` passed it.
    @Test(arguments: ["localhost.example.org", "localhost.example.org:5000", "127.0.0.1.example.org:5000", "localhostx:5000",
                      "[::2]:5000", "10.0.0.1:5000", "registry-1.docker.io", "quay.io", "not a host"])
    func anyOtherRegistryIsHTTPSOnly(_ registry: String) {
        #expect(!RegistrySecurity(insecureRegistries: []).allowsPlainHTTP(registry))
    }

    @Test func registriesTheUserListsMayUsePlainHTTP() {
        let security = RegistrySecurity(environment: ["SWRUN_INSECURE_REGISTRIES": "myreg.lan:5000, Other.LAN [fd00::5]"])
        #expect(security.insecureRegistries == ["myreg.lan:5000", "other.lan", "[fd00::5]"])
        #expect(security.allowsPlainHTTP("myreg.lan:5000") && security.allowsPlainHTTP("MyReg.lan:5000"))
        #expect(!security.allowsPlainHTTP("myreg.lan:5001") && !security.allowsPlainHTTP("myreg.lan"))
        #expect(security.allowsPlainHTTP("other.lan:1234") && security.allowsPlainHTTP("other.lan"))
        #expect(security.allowsPlainHTTP("[fd00::5]:5000") && !security.allowsPlainHTTP("[fd00::6]:5000"))
        #expect(!security.allowsPlainHTTP("sub.other.lan"))
        #expect(RegistrySecurity(environment: [:]).insecureRegistries.isEmpty)
    }
}
