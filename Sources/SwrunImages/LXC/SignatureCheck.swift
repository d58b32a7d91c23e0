import SwrunSystem

/// Checks detached OpenPGP signatures with gpgv against keyrings given as files: no
/// keyserver is ever asked (the seed's "port 11371 closed"), and no ~/.gnupg is touched.
public struct SignatureCheck: Sendable {
    /// Binary keyrings (`gpg --export KEY > FILE`); a signature is good if any key in them made it.
    public var keyrings: [String]

    public init(keyrings: [String]) { self.keyrings = keyrings }

    /// Throws unless `signature` is a good signature of `file` by a key in `keyrings`.
    public func verify(_ file: String, signature: String) throws(SwrunError) {
        guard !keyrings.isEmpty else {
            throw SwrunError(.verificationFailed, "no keyring to check the signature of \(file) with",
                             hint: "give the server's signing key with --keyring FILE, or skip the check with --no-validate")
        }
        var argv = ["gpgv", "--status-fd", "1"]
        for keyring in keyrings { argv += ["--keyring", keyring] }
        argv += [signature, file]
        let result: (status: Int32, output: [UInt8])
        do {
            result = try Subprocess.run(argv, quiet: true)
        } catch where error.code == .commandNotFound || error.errno == .noSuchFileOrDirectory {
            throw SwrunError(.missingDependency, "gpgv is needed to check image signatures",
                             hint: "install it (apt-get install gpgv), or skip the check with --no-validate")
        }
        let status = Self.parse(String(decoding: result.output, as: UTF8.self))
        if result.status == 0, case .good = status { return }
        throw SwrunError(.verificationFailed, "the signature \(signature) does not verify \(file): \(status.explanation)",
                         hint: status.hint(keyrings: keyrings))
    }

    enum Status: Equatable {
        case good(fingerprint: String)
        case bad(key: String)
        case unknownKey(String)
        case unreadable

        var explanation: String {
            switch self {
            case .good(let fingerprint): "good signature by \(fingerprint)"
            case .bad(let key): "the file was changed after key \(key) signed it"
            case .unknownKey(let key): "it was made by key \(key), which is not in the keyrings"
            case .unreadable: "no valid signature found"
            }
        }

        func hint(keyrings: [String]) -> String {
            switch self {
            case .bad: "the download is corrupt or was tampered with; try again with --flush-cache"
            case .unknownKey(let key): "add key \(key) with --keyring FILE (keyrings used: \(keyrings.joined(separator: ", "))), or skip the check with --no-validate"
            default: "the signature file is damaged; try again with --flush-cache, or skip the check with --no-validate"
            }
        }
    }

    /// The outcome in a word and a key, for tests: "good FPR", "bad KEY", "unknown KEY", "unreadable".
    public static func outcome(of status: String) -> String {
        switch parse(status) {
        case .good(let fingerprint): "good \(fingerprint)"
        case .bad(let key): "bad \(key)"
        case .unknownKey(let key): "unknown \(key)"
        case .unreadable: "unreadable"
        }
    }

    /// The outcome from gpgv's machine-readable status lines.
    static func parse(_ status: String) -> Status {
        var result = Status.unreadable
        for line in status.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3, words[0] == "[GNUPG:]" else { continue }
            switch words[1] {
            case "VALIDSIG": return .good(fingerprint: words[2])
            case "BADSIG": return .bad(key: words[2])
            case "NO_PUBKEY": result = .unknownKey(words[2])
            case "ERRSIG": if case .unreadable = result { result = .unknownKey(words[2]) }
            default: break
            }
        }
        return result
    }
}
