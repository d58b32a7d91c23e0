import Foundation
@testable import SwrunImages
import Testing

/// Insecure registries as podman's containers-registries.conf(5) lists them.
@Suite struct RegistriesConfTests {
    @Test func version2RegistriesAndMirrorsMarkedInsecure() throws {
        let text = """
            unqualified-search-registries = ["docker.io"]  # not ours
            [[registry]]
            prefix = "example.org/team"
            location = "myreg.lan:5000/team"
            insecure = true
            [[registry.mirror]]
            location = 'mirror.lan'
            insecure = true

            [[registry]]
            location = "secure.example.org"   # insecure is false by default
            blocked = false
            [[registry]]
            prefix = "*.lab"
            insecure = true
            """
        #expect(try RegistriesConf.insecureRegistries(in: text) == ["myreg.lan:5000", "mirror.lan", "*.lab"])
    }

    @Test func version1InsecureList() throws {
        let text = """
            [registries.search]
            registries = ['docker.io']
            [registries.insecure]
            registries = [
              "old.lan:5000",  # a comment inside
              'Other.LAN',
            ]
            """
        #expect(try RegistriesConf.insecureRegistries(in: text) == ["old.lan:5000", "other.lan"])
    }

    @Test func aMalformedLineIsNamed() {
        #expect(throws: RegistriesConf.Failure(line: 3, reason: "the value of insecure is not a string, boolean or array of strings")) {
            try RegistriesConf.insecureRegistries(in: "[[registry]]\nlocation = \"x\"\ninsecure = yes\n")
        }
    }

    @Test func theFileNamedBySwrunRegistriesConfIsRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("registries-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/registries.conf"
        try "[[registry]]\nlocation = \"myreg.lan:5000\"\ninsecure = true\n[[registry]]\nprefix = \"*.lab\"\ninsecure = true\n"
            .write(toFile: file, atomically: false, encoding: .utf8)
        let security = RegistrySecurity(environment: ["SWRUN_REGISTRIES_CONF": file, "SWRUN_INSECURE_REGISTRIES": "env.lan"])
        #expect(security.configFile == file && security.configProblem == nil)
        #expect(security.allowsPlainHTTP("myreg.lan:5000") && security.allowsPlainHTTP("env.lan:443") && security.allowsPlainHTTP("build.lab:5000"))
        #expect(!security.allowsPlainHTTP("myreg.lan:5001") && !security.allowsPlainHTTP("lab") && !security.allowsPlainHTTP("other.lan"))

        try "[[registry]]\nlocation\n".write(toFile: file, atomically: false, encoding: .utf8)
        let broken = RegistrySecurity(environment: ["SWRUN_REGISTRIES_CONF": file])
        #expect(broken.insecureRegistries.isEmpty && broken.configProblem == "\(file):2: 'location' is not KEY = VALUE")
        #expect(RegistrySecurity(environment: ["SWRUN_REGISTRIES_CONF": directory + "/absent.conf"]).insecureRegistries.isEmpty)
    }
}
