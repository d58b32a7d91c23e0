@testable import SwrunImages
import SwrunHTTP
import Testing

/// What `swrun pull` hands a fetch-blob worker on its stdin comes back whole: a private
/// image's token is asked for again with the same login when it expires under a long pull.
@Suite struct BlobDownloadTests {
    @Test func theTokenServiceAndItsLoginReachTheWorker() throws {
        let download = BlobDownload(url: try HTTPURL("http://127.0.0.1:5000/v2/mine/blobs/sha256:ab"), headers: [.init("Authorization", "Bearer t")],
                                    digest: "sha256:ab", size: 12, path: "/tmp/x", tokenURL: try HTTPURL("http://127.0.0.1:5001/token?scope=a"),
                                    tokenLogin: .init(user: "fixture", password: "p:ss\"word"))
        let back = try BlobDownload(json: download.json)
        #expect(back.tokenLogin == download.tokenLogin && back.tokenURL?.description == download.tokenURL?.description)
        #expect(back.headers == download.headers && back.digest == download.digest && back.size == 12)
        let anonymous = try BlobDownload(json: BlobDownload(url: download.url, digest: "sha256:ab", size: 12, path: "/tmp/x").json)
        #expect(anonymous.tokenLogin == nil && anonymous.tokenURL == nil)
    }
}
