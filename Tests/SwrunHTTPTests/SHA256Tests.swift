import SwrunHTTP
import SwrunSystem
import Testing

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hexDigest(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func streamingEqualsOneShot() {
        let bytes = testBytes(100_000)
        let digest = SHA256()
        for start in stride(from: 0, to: bytes.count, by: 777) {
            bytes[start..<min(start + 777, bytes.count)].withUnsafeBytes { digest.update($0) }
        }
        #expect(digest.finalize() == SHA256.hexDigest(of: bytes))
    }

    @Test func digestsFiles() throws {
        try withTemporaryDirectory { directory throws in
            let path = FileSystem.join(directory, "abc")
            try FileSystem.writeAtomically(path, "abc")
            #expect(try SHA256.hexDigest(ofFile: path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(swrunError { _ = try SHA256.hexDigest(ofFile: path + ".missing") }?.code == .notFound)
        }
    }
}
