import Glibc
import SwrunHTTP
import SwrunSystem
import Testing

@Suite(.serialized) struct HTTPClientTests {
    let file = testBytes(150_000)

    @Test func getsAFile() throws {
        try withServer(files: ["dir/file.bin": file]) { server, _ throws in
            let url = try server.url("/dir/file.bin")
            let (response, body) = try HTTPClient().fetch(url)
            #expect(response.status == 200)
            #expect(response.header("content-length") == "150000")
            #expect(response.url == url)
            #expect(body == file)
        }
    }

    @Test func followsARedirectChain() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let (response, body) = try HTTPClient().fetch(try server.url("/redirect/3/file.bin"))
            #expect(response.status == 200)
            #expect(response.url == (try server.url("/file.bin")))
            #expect(body == file)
            #expect(try server.requests() == ["GET /redirect/3/file.bin", "GET /redirect/2/file.bin", "GET /redirect/1/file.bin", "GET /file.bin"])
        }
    }

    /// A redirect from HTTPS to plain HTTP is refused before anything is asked of the HTTP server.
    @Test func refusesARedirectFromHTTPSToHTTP() throws {
        try withServer(files: ["file.bin": file]) { plain, _ throws in
            try withServer(tls: true) { secure, directory throws in
                let client = HTTPClient(options: .init(caFile: FileSystem.join(directory, "ca.pem")))
                let target = try plain.url("/file.bin")
                let error = swrunError { _ = try client.fetch(try secure.url("/location/\(target)")) }
                #expect(error?.message.contains("redirects to \(target), plain HTTP") == true, "\(String(describing: error))")
                #expect(try plain.requests().isEmpty)
                // HTTPS to HTTPS, and HTTP to HTTP, are followed.
                let (response, _) = try client.fetch(try secure.url("/location/\(try secure.url("/status/204"))"))
                #expect(response.status == 204)
                let (same, body) = try HTTPClient().fetch(try plain.url("/location/\(target)"))
                #expect(same.status == 200 && body == file)
            }
        }
    }

    @Test func stopsAfterTooManyRedirects() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let client = HTTPClient(options: .init(maxRedirects: 2))
            let error = swrunError { _ = try client.fetch(try server.url("/redirect/3/file.bin")) }
            #expect(error?.message.contains("too many redirects (more than 2)") == true)
        }
    }

    @Test func decodesChunkedBodies() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let (response, body) = try HTTPClient().fetch(try server.url("/chunked/file.bin"))
            #expect(response.header("Transfer-Encoding") == "chunked")
            #expect(body == file)
        }
    }

    @Test func returnsErrorStatusesAndExplainsThem() throws {
        try withServer { server, _ throws in
            let url = try server.url("/missing.tar.xz")
            let (response, body) = try HTTPClient().fetch(url)
            #expect(response.status == 404)
            #expect(body == Array("not found\n".utf8))
            let error = swrunError { try response.checkSuccess() }
            #expect(error?.message == "cannot download \(url): not found on the server (404 Not Found)")
            let limited = try HTTPClient().fetch(try server.url("/status/429")).0
            #expect(swrunError { try limited.checkSuccess() }?.message.contains("rate-limited, try again later") == true)
        }
    }

    @Test func refusesDocumentsOverTheLimit() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let error = swrunError { _ = try HTTPClient().fetch(try server.url("/file.bin"), limit: 1000) }
            #expect(error?.message.contains("larger than 1000 bytes") == true)
        }
    }

    @Test func aDroppedConnectionIsResumable() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let url = try server.url("/drop-once/file.bin")
            var received = 0
            let error = swrunError { try HTTPClient().get(url) { received += $0.count } }
            #expect(error.map(HTTPClient.isResumable) == true)
            #expect(error?.message.contains("closed after \(received) of 150000 bytes") == true)
            #expect(received == 75_000)
            #expect(try HTTPClient().fetch(url).1 == file)  // only the first request is cut short
        }
    }

    @Test func aSlowServerTimesOut() throws {
        try withServer(files: ["file.bin": file]) { server, _ throws in
            let client = HTTPClient(options: .init(readTimeout: 0.3))
            let started = monotonic()
            let error = swrunError { _ = try client.fetch(try server.url("/slow/file.bin")) }
            #expect(error?.errno == .timedOut)
            #expect(error.map(HTTPClient.isResumable) == true)
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true)
            #expect(monotonic() - started < 2.5)  // the server waits 3 s
        }
    }

    @Test func aClosedPortIsRefused() throws {
        let port = try unusedPort()
        let error = swrunError { _ = try HTTPClient().fetch(try HTTPURL("http://127.0.0.1:\(port)/x")) }
        #expect(error?.code == .network)
        #expect(error?.errno == .connectionRefused)
        #expect(error?.message == "cannot connect to 127.0.0.1:\(port) (http://127.0.0.1:\(port)/x)")
        #expect(error.map(HTTPClient.isResumable) == false)
    }

    @Test func anUnknownHostFails() throws {
        let error = swrunError { _ = try HTTPClient().fetch(try HTTPURL("http://no-such-host.invalid/x")) }
        #expect(error?.code == .network)
        #expect(error?.message.hasPrefix("cannot resolve the host no-such-host.invalid (http://no-such-host.invalid/x)") == true)
    }
}

func monotonic() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A port on 127.0.0.1 that nothing listens on: bound, looked at, closed.
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            try check("bind", bind(fd, generic, length))
            try check("getsockname", getsockname(fd, generic, &length))
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
