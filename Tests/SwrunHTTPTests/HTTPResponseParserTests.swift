@testable import SwrunHTTP
import SwrunSystem
import Testing

/// Feeds `input` in pieces of `step` bytes, as a socket might deliver it; returns the head and body.
private func parse(_ input: String, step: Int = .max, eof: Bool = false) throws -> (HTTPResponse?, String, Bool) {
    var parser = HTTPResponseParser(url: try HTTPURL("http://example.org/x"))
    let bytes = Array(input.utf8)
    var body: [UInt8] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + min(step, bytes.count - start))
        var offset = start
        while offset < end {  // the parser stops after the head: feed it the rest again
            offset += try bytes[offset..<end].withUnsafeBytes { piece throws(SwrunError) in
                try parser.feed(piece) { chunk throws(SwrunError) in body += chunk }
            }
            if parser.isComplete { break }
        }
        start = end
    }
    if eof { try parser.finish() }
    return (parser.response, String(decoding: body, as: UTF8.self), parser.isComplete)
}

@Suite struct HTTPResponseParserTests {
    @Test(arguments: [1, 2, 7, 1000])
    func parsesAContentLengthResponseInPiecesOfAnySize(step: Int) throws {
        let (response, body, complete) = try parse(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
            step: step)
        #expect(response?.status == 200)
        #expect(response?.reason == "OK")
        #expect(response?.header("content-type") == "text/plain")
        #expect(response?.headers(named: "SET-COOKIE") == ["a=1", "b=2"])
        #expect(body == "hello")
        #expect(complete)
    }

    @Test(arguments: [1, 3, 1000])
    func decodesChunkedBodies(step: Int) throws {
        let input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nTrailer: x\r\n\r\n"
        let (_, body, complete) = try parse(input, step: step)
        #expect(body == "hello abcdefghijklmnopqrstuvwxy")
        #expect(complete)
    }

    @Test func readsUntilCloseWithoutFraming() throws {
        let (response, body, complete) = try parse("HTTP/1.0 200 OK\nServer: old\n\nall of it", step: 4, eof: true)
        #expect(response?.header("Server") == "old")  // bare LF line ends are accepted
        #expect(body == "all of it")
        #expect(complete)
    }

    @Test func skipsInterimResponsesAndBodilessStatuses() throws {
        let (response, _, _) = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        #expect(response?.status == 204)
        let (notModified, _, complete) = try parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")
        #expect(notModified?.status == 304)
        #expect(complete)
    }

    @Test func aTruncatedBodyIsAResumableDrop() throws {
        let error = swrunError { _ = try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", eof: true) }
        #expect(error.map(HTTPClient.isResumable) == true)
        #expect(error?.message.contains("after 4 of 10 bytes") == true)
        #expect(error?.message.contains("example.org:80") == true)
        let chunked = swrunError { _ = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", eof: true) }
        #expect(chunked.map(HTTPClient.isResumable) == true)
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        "SSH-2.0-OpenSSH_9.2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ])
    func rejectsMalformedAnswers(_ input: String) {
        let error = swrunError { _ = try parse(input) }
        #expect(error?.code == .network)
        #expect(error?.message.contains("malformed HTTP answer") == true)
        #expect(error.map(HTTPClient.isResumable) == false)
    }

    @Test func dropsAuthorizationOnlyWhenTheOriginChanges() throws {
        let headers = [("Authorization", "Bearer t"), ("Accept", "x")]
        let registry = try HTTPURL("https://registry.example/v2/blobs/1")
        let same = HTTPClient.headers(headers, forRedirectFrom: registry, to: try HTTPURL("https://registry.example/other"))
        #expect(same.map(\.0) == ["Authorization", "Accept"])
        let cdn = HTTPClient.headers(headers, forRedirectFrom: registry, to: try HTTPURL("https://cdn.example/blob?sig=1"))
        #expect(cdn.map(\.0) == ["Accept"])
        let otherPort = HTTPClient.headers(headers, forRedirectFrom: registry, to: try HTTPURL("https://registry.example:444/"))
        #expect(otherPort.map(\.0) == ["Accept"])
    }
}
