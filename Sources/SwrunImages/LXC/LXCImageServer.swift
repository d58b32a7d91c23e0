import Glibc
import SwrunConfig
import SwrunHTTP
import SwrunJSON
import SwrunSystem

/// An LXC image server: its index, in either format, and the files of one image.
public struct LXCImageServer {
    public let base: String
    let client: HTTPClient

    public init(base: String, caFile: String?) {
        self.base = base
        // The server picks the index it serves by the compat level in the user agent, as for lxc-download.
        client = HTTPClient(options: .init(caFile: caFile, userAgent: "swrun/0.1 compat:7"))
    }

    public func url(_ path: String) throws(SwrunError) -> HTTPURL {
        try HTTPURL(base + (path.hasPrefix("/") ? path : "/" + path))
    }

    /// Every image the server offers: from the legacy index that lxc-download reads, or, where a
    /// server has none (Incus-only mirrors), from simplestreams, which also vouches for checksums.
    /// `checkIndex` is given the legacy index's bytes and URL before they are read (its signature).
    public func images(checkIndex: ([UInt8], HTTPURL) throws(SwrunError) -> Void = { _, _ throws(SwrunError) in }) throws(SwrunError) -> [LXCImage] {
        let legacy = try url(LXCImageIndex.legacyPath)
        let (response, body) = try reaching { () throws(SwrunError) in try fetch(legacy) }
        if response.isSuccess {
            try checkIndex(body, legacy)
            return try LXCImageIndex.parseLegacy(String(decoding: body, as: UTF8.self), source: legacy.description)
        }
        guard response.status == 404 else { try response.checkSuccess(); return [] }
        let indexURL = try url(LXCImageIndex.streamsIndexPath)
        let index = try document(indexURL)
        let productsURL = try url(LXCImageIndex.productsPath(inStreamsIndex: index, source: indexURL.description))
        return try LXCImageIndex.parseProducts(try document(productsURL), source: productsURL.description)
    }

    /// The image `options` name; an error lists what the server has instead.
    public func select(_ options: DownloadOptions, from images: [LXCImage]) throws(SwrunError) -> LXCImage {
        let arch = options.arch ?? LXCImageIndex.hostArchitecture(machine: Architecture.hostMachine)
        let wanted = LXCImage(dist: options.dist ?? "", release: options.release ?? "", arch: arch,
                              variant: options.variant, build: "", directory: "")
        let matches = images.filter { $0.key == wanted.key }
        if let newest = matches.max(by: { $0.build < $1.build }) { return newest }
        let sameDist = images.filter { $0.dist == wanted.dist }.map(\.key)
        let offered = sameDist.isEmpty ? Set(images.map(\.dist)).sorted() : sameDist.sorted()
        throw SwrunError(.notFound, "\(base) has no image \(wanted.key)",
                         hint: (sameDist.isEmpty ? "its distributions: " : "it has: ") + offered.prefix(20).joined(separator: ", ")
                             + "; list all with `swrun create -t download -n NAME -- --server \(base)`")
    }

    private func document(_ url: HTTPURL) throws(SwrunError) -> JSONValue {
        let (response, body) = try reaching { () throws(SwrunError) in try fetch(url) }
        try response.checkSuccess()
        do {
            return try JSONValue(parsing: body)
        } catch {
            throw SwrunError(.verificationFailed, "\(url) is not valid JSON: \(error)", hint: "check that --server names an LXC or Incus image server")
        }
    }

    /// A small document, asked for again after a dropped connection or a timeout (as the
    /// Downloader does for the large files, which it resumes).
    private func fetch(_ url: HTTPURL) throws(SwrunError) -> (HTTPResponse, [UInt8]) {
        var attempt = 0
        while true {
            do {
                return try client.fetch(url)
            } catch where HTTPClient.isResumable(error) && attempt < 3 {
                attempt += 1
                usleep(useconds_t(200_000 * attempt))
            }
        }
    }

    /// Runs a first request, adding what to do when the server cannot be reached at all.
    func reaching<T>(_ body: () throws(SwrunError) -> T) throws(SwrunError) -> T {
        do {
            return try body()
        } catch where error.code == .network {
            var error = error
            error.hint = (error.hint.map { $0 + "; " } ?? "")
                + "to use another image server give --server URL; without a network, import a rootfs tarball with `swrun import` or use `-t busybox`"
            throw error
        }
    }
}
