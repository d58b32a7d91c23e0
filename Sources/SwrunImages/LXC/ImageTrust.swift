import SwrunHTTP
import SwrunSystem

/// How the files of an image from an LXC image server are vouched for, decided before
/// anything is downloaded.
enum ImageTrust {
    /// Signatures by a key of the keyrings: of the legacy index, which names the builds, and of
    /// every file, each made no earlier than the build the index names.
    case signatures(SignatureCheck)
    /// The server's HTTPS certificate, and the checksums a simplestreams index gives (as LXC 5).
    case certificate
    /// --no-validate: the files are used as downloaded, for this container only, never cached.
    case unverified

    /// Signatures when there is a key (--keyring, or the one swrun ships for the server's
    /// host); else the HTTPS certificate. Plain HTTP without a key is refused whatever the
    /// index format: a simplestreams index's checksums come over the same open connection.
    static func decide(_ options: DownloadOptions, shippedKeyring: String?, report: (String) -> Void) throws(SwrunError) -> ImageTrust {
        guard options.validate else {
            report("warning: not verifying the image (--no-validate): it is used as downloaded, for this container only")
            return .unverified
        }
        let keyrings = options.keyrings + (shippedKeyring.map { [$0] } ?? [])
        if !keyrings.isEmpty { return .signatures(SignatureCheck(keyrings: keyrings)) }
        guard options.server.hasPrefix("https://") else {
            throw SwrunError(.verificationFailed, "cannot verify images from \(options.server): no signing key and no HTTPS",
                             hint: "give the server's signing key with --keyring FILE, use an https:// server, or skip the check with --no-validate")
        }
        report("no signing key given: trusting the server's HTTPS certificate, as LXC 5 does (add --keyring FILE to check signatures)")
        return .certificate
    }

    var isVerified: Bool {
        if case .unverified = self { return false }
        return true
    }

    /// Checks the legacy index's signature (INDEX.asc), with `scratch` a directory to hold both.
    func verifyIndex(_ index: [UInt8], from url: HTTPURL, client: HTTPClient, scratch: String) throws(SwrunError) {
        guard case .signatures(let check) = self else { return }
        let path = scratch + "/.index-system"
        defer { try? FileSystem.removeTree(path); try? FileSystem.removeTree(path + ".asc") }
        try FileSystem.writeAtomically(path, index)
        try? FileSystem.removeTree(path + ".asc")
        try Downloader(client: client).download(try HTTPURL(url.description + ".asc"), to: path + ".asc")
        do {
            try check.verify(path, signature: path + ".asc")
        } catch {
            var error = error
            error.message = "the index \(url) is not signed by a trusted key: " + error.message
            throw error
        }
    }

    /// Checks the signature of the downloaded `path` (from `url`), which must be of `image`'s
    /// build: a signature made before the build was is an older build's file served as this one's.
    func verifyFile(_ path: String, from url: HTTPURL, of image: LXCImage, client: HTTPClient) throws(SwrunError) {
        guard case .signatures(let check) = self else { return }
        let signature = path + ".asc"
        try Downloader(client: client).download(try HTTPURL(url.description + ".asc"), to: signature)
        let good = try check.verify(path, signature: signature)
        if let built = image.buildTime, let made = good.created, made < built {
            throw SwrunError(.verificationFailed,
                             "\(url) was signed \(UTCTime.text(made)), before build \(image.build) of \(image.key) was made: it is an older build's file, not the one the index names",
                             hint: "the server, or something on the way, replays an old image; try again later, or another server over https://")
        }
    }
}
