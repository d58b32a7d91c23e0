import SwrunSystem

/// Checks detached OpenPGP signatures with gpgv against keyrings given as files: no
/// keyserver is ever asked (the seed's "port 11371 closed"), and no ~/.gnupg is touched.
public struct SignatureCheck: Sendable {
    /// Binary keyrings (`gpg --export KEY > FILE`); a signature is good if any key in them made it.
    public var keyrings: [String]

    public init(keyrings: [String]) { self.keyrings = keyrings }

    /// A good signature: the key's fingerprint, and when it was made (seconds since 1970).
    public struct Signature: Sendable, Equatable {
        public var fingerprint: String
        public var created: Int64?
    }

    /// Throws unless `signature` is a good signature of `file` by a key in `keyrings`.
    @discardableResult
    public func verify(_ file: String, signature: String) throws(SwrunError) -> Signature {
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
        if result.status == 0, case .good(let good) = status { return good }
        throw SwrunError(.verificationFailed, "the signature \(signature) does not verify \(file): \(status.explanation)",
                         hint: status.hint(keyrings: keyrings))
    }

    enum Status: Equatable {
        case good(Signature)
        case bad(key: String)
        case unknownKey(String)
        case unreadable

        var explanation: String {
            switch self {
            case .good(let signature): "good signature by \(signature.fingerprint)"
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
        case .good(let signature): "good \(signature.fingerprint)" + (signature.created.map { " at \($0)" } ?? "")
        case .bad(let key): "bad \(key)"
        case .unknownKey(let key): "unknown \(key)"
        case .unreadable: "unreadable"
        }
    }

    /// A time as gpgv's status lines give it.
    static func time(_ text: String) -> Int64? {
        if let seconds = Int64(text) { return seconds }
        let digits = text.filter(\.isNumber)
        guard text.count == 15, digits.count == 14 else { return nil }
        return UTCTime.seconds(digits)
    }

    /// The outcome from gpgv's machine-readable status lines.
    static func parse(_ status: String) -> Status {
        var result = Status.unreadable
        for line in status.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3, words[0] == "[GNUPG:]" else { continue }
            switch words[1] {
            // VALIDSIG FINGERPRINT DATE TIMESTAMP ...: the timestamp in seconds, or ISO 8601 (20261129T012345).
            case "VALIDSIG": return .good(Signature(fingerprint: words[2], created: words.count > 4 ? Self.time(words[4]) : nil))
            case "BADSIG": return .bad(key: words[2])
            case "NO_PUBKEY": result = .unknownKey(words[2])
            case "ERRSIG": if case .unreadable = result { result = .unknownKey(words[2]) }
            default: break
            }
        }
        return result
    }
}
