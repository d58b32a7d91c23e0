import SwrunSystem

/// The network errors that say where a transfer broke. Those that a retry can pick up
/// from (a dropped connection, a timeout) carry errno ECONNRESET or ETIMEDOUT, which
/// `HTTPClient.isResumable` looks for: SwrunError has no other field to mark them.
enum TransferError {
    static func dropped(_ url: HTTPURL, _ what: String) -> SwrunError {
        SwrunError(.network, "the connection to \(url.authority) \(what) (\(url))", errno: .connectionReset,
                   hint: "the network or the server dropped the connection; run the command again to resume")
    }

    static func timedOut(_ url: HTTPURL, _ what: String) -> SwrunError {
        SwrunError(.network, "\(what) \(url.authority) (\(url))", errno: .timedOut,
                   hint: "the server or the network is slow or down; try again later")
    }

    static func malformed(_ url: HTTPURL, _ why: String) -> SwrunError {
        SwrunError(.network, "malformed HTTP answer from \(url.authority) (\(url)): \(why)",
                   hint: "the server is not speaking HTTP/1.1 as expected; check the URL and port")
    }
}

extension HTTPClient {
    /// Whether `error` is a dropped connection or a timeout, after which the same
    /// request (with a Range from what arrived) is worth sending again.
    public static func isResumable(_ error: SwrunError) -> Bool {
        error.code == .network && (error.errno == .connectionReset || error.errno == .timedOut)
    }
}
