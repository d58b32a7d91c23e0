import SwrunHTTP
import SwrunSystem
import Testing

@Suite(.serialized) struct TLSTests {
    let file = testBytes(100_000)

    @Test func verifiesAgainstTheGivenCA() throws {
        try withServer(files: ["file.bin": file], tls: true) { server, directory throws in
            let client = HTTPClient(options: .init(caFile: FileSystem.join(directory, "ca.pem")))
            #expect(try client.fetch(try server.url("/file.bin")).1 == file)  // IP SAN
            #expect(try client.fetch(try server.url("/chunked/file.bin", host: "localhost")).1 == file)  // DNS SAN
        }
    }

    @Test func anUnknownCAFailsWithAHint() throws {
        try withServer(files: ["file.bin": file], tls: true) { server, _ throws in
            let url = try server.url("/file.bin")
            let error = swrunError { _ = try HTTPClient().fetch(url) }
            #expect(error?.code == .network)
            #expect(error?.message.hasPrefix("the TLS certificate of 127.0.0.1:\(server.port) did not verify (\(url)): ") == true)
            #expect(error?.hint?.contains("--ca-file FILE") == true)
        }
    }

    @Test func aCertificateForAnotherNameFails() throws {
        try withServer(files: ["file.bin": file], tls: true, names: "DNS:other.example") { server, directory throws in
            let client = HTTPClient(options: .init(caFile: FileSystem.join(directory, "ca.pem")))
            let error = swrunError { _ = try client.fetch(try server.url("/file.bin")) }
            #expect(error?.message.contains("did not verify") == true)
            #expect(error?.message.contains("mismatch") == true)
        }
    }

    @Test func aMissingCAFileIsNamed() throws {
        try withServer(files: ["file.bin": file], tls: true) { server, directory throws in
            let missing = FileSystem.join(directory, "nope.pem")
            let error = swrunError { _ = try HTTPClient(options: .init(caFile: missing)).fetch(try server.url("/file.bin")) }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains(missing) == true)
        }
    }
}
