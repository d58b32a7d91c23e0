import SwrunHTTP
import SwrunSystem
import Testing

@Suite(.serialized) struct DownloaderTests {
    let file = testBytes(300_000)
    var digest: String { SHA256.hexDigest(of: file) }
    let downloader = Downloader(client: HTTPClient(options: .init(readTimeout: 0.5)), retryDelay: 0)

    @Test func downloadsVerifiesAndRenames() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            var output: [String] = []
            let progress = DownloadProgress(name: "image", enabled: true, clock: { 0 }) { output.append($0) }
            try downloader.download(try server.url("/image.tar"), to: path, expectedSHA256: "sha256:" + digest,
                                    expectedSize: Int64(file.count), progress: progress)
            #expect(try FileSystem.readBytes(path) == file)
            #expect(!FileSystem.exists(path + ".part"))
            #expect(output.first == "\rimage  0 B / 293.0 KiB\u{1B}[K")
            #expect(output.suffix(2) == ["\rimage  293.0 KiB / 293.0 KiB\u{1B}[K", "\n"])
        }
    }

    @Test func resumesAfterADroppedConnection() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            try downloader.download(try server.url("/drop-once/image.tar"), to: path, expectedSHA256: digest)
            #expect(try FileSystem.readBytes(path) == file)
            #expect(try server.requests() == ["GET /drop-once/image.tar", "GET /drop-once/image.tar range=bytes=150000-"])
        }
    }

    @Test func resumesAPartLeftByAnEarlierRun() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            try FileSystem.writeAtomically(path + ".part", Array(file.prefix(1000)))
            try downloader.download(try server.url("/image.tar"), to: path, expectedSHA256: digest, expectedSize: Int64(file.count))
            #expect(try FileSystem.readBytes(path) == file)
            #expect(try server.requests() == ["GET /image.tar range=bytes=1000-"])
        }
    }

    @Test func aCompletePartIsVerifiedAfterRangeNotSatisfiable() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            try FileSystem.writeAtomically(path + ".part", file)
            try downloader.download(try server.url("/image.tar"), to: path, expectedSHA256: digest)
            #expect(try FileSystem.readBytes(path) == file)
            #expect(try server.requests() == ["GET /image.tar range=bytes=300000-"])
        }
    }

    @Test func aChecksumMismatchNamesBothDigestsAndDeletesThePart() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            let wrong = String(repeating: "ab", count: 32)
            let url = try server.url("/image.tar")
            let error = swrunError { try downloader.download(url, to: path, expectedSHA256: wrong) }
            #expect(error?.code == .verificationFailed)
            #expect(error?.message == "\(path) downloaded from \(url) does not match its checksum: expected sha256 \(wrong), got \(digest)")
            #expect(!FileSystem.exists(path + ".part"))
            #expect(!FileSystem.exists(path))
        }
    }

    @Test func aWrongSizeFails() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            let error = swrunError { try downloader.download(try server.url("/chunked/image.tar"), to: path, expectedSize: 1234) }
            #expect(error?.code == .verificationFailed)
            #expect(error?.message.contains("has 300000 bytes, expected 1234") == true)
            #expect(!FileSystem.exists(path + ".part"))
        }
    }

    @Test func aMissingFileIsNotFound() throws {
        try withServer { server, directory throws in
            let path = FileSystem.join(directory, "image.tar")
            let url = try server.url("/redirect/1/image.tar")
            let error = swrunError { try downloader.download(url, to: path) }
            #expect(error?.code == .network)
            #expect(error?.message == "cannot download \(try server.url("/image.tar")): not found on the server (404 Not Found)")
            #expect(!FileSystem.exists(path))
            #expect(!FileSystem.exists(path + ".part"))
        }
    }

    @Test func timeoutsAreRetriedThenReported() throws {
        try withServer(files: ["image.tar": file]) { server, directory throws in
            var downloader = downloader
            downloader.retries = 1
            let error = swrunError { try downloader.download(try server.url("/slow/image.tar"), to: FileSystem.join(directory, "image.tar")) }
            #expect(error?.errno == .timedOut)
            #expect(try server.requests() == ["GET /slow/image.tar", "GET /slow/image.tar"])
        }
    }
}
