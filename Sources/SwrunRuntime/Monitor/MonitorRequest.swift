import Glibc
import SwrunConfig
import SwrunJSON
import SwrunSystem

/// What `start -d` asks of the monitor it spawns (`swrun monitor --request-fd 3`), and the
/// monitor's answer, as JSON over one socketpair: the container, its settings for this start,
/// the command and the settle time go one way; "running" or the typed error comes back, so a
/// failure keeps its code, message, errno and hint across the two processes.
public struct MonitorRequest: Equatable, Sendable {
    public var name: String
    public var lxcPath: String
    /// -s KEY=VALUE settings for this start, after the config's own.
    public var settings: [ConfigSetting]
    public var command: [String]
    public var explain: Bool
    public var settleMilliseconds: Int

    public init(name: String, lxcPath: String, settings: [ConfigSetting] = [], command: [String] = [],
                explain: Bool = false, settleMilliseconds: Int = ContainerMonitor.defaultSettleMilliseconds) {
        self.name = name
        self.lxcPath = lxcPath
        self.settings = settings
        self.command = command
        self.explain = explain
        self.settleMilliseconds = settleMilliseconds
    }

    var document: JSONValue {
        .object([
            "name": .string(name), "lxcpath": .string(lxcPath),
            "settings": .array(settings.map { .array([.string($0.key), .string($0.value), .string($0.location.file), .number(String($0.location.line))]) }),
            "command": .array(command.map { .string($0) }), "explain": .bool(explain),
            "settle_ms": .number(String(settleMilliseconds)),
        ])
    }

    init(document: JSONValue) throws(SwrunError) {
        guard let name = document["name"]?.string, let lxcPath = document["lxcpath"]?.string,
              let settle = document["settle_ms"]?.int else {
            throw SwrunError(.invalidArgument, "the monitor's request is incomplete", hint: "the monitor is started by `swrun start -d`, not by hand")
        }
        let settings = (document["settings"]?.array ?? []).compactMap { item -> ConfigSetting? in
            guard let items = item.array, items.count == 4, let key = items[0].string, let value = items[1].string,
                  let file = items[2].string, let line = items[3].int else { return nil }
            return ConfigSetting(key: key, value: value, location: ConfigLocation(file: file, line: line))
        }
        self.init(name: name, lxcPath: lxcPath, settings: settings, command: document["command"]?.array?.compactMap(\.string) ?? [],
                  explain: document["explain"]?.bool ?? false, settleMilliseconds: settle)
    }

    /// Sends the request (the spawner's side).
    func send(on socket: Int32) throws(SwrunError) {
        guard Self.sendMessage(document, on: socket) else {
            throw SwrunError.system("cannot send the monitor its request", Errno.current)
        }
    }

    /// Reads the request (the monitor's side).
    public static func receive(on socket: Int32) throws(SwrunError) -> MonitorRequest {
        guard let document = receiveMessage(on: socket) else {
            throw SwrunError(.invalidArgument, "the monitor got no request on its socket", hint: "the monitor is started by `swrun start -d`, not by hand")
        }
        return try MonitorRequest(document: document)
    }

    // MARK: the answer

    /// The monitor's answer: the container runs, or why it does not.
    public static func answer(_ result: Result<Void, SwrunError>, on socket: Int32) {
        let document: JSONValue = switch result {
        case .success: .object(["running": .bool(true)])
        case .failure(let error):
            .object(["error": .object([
                "code": .string(error.code.rawValue), "message": .string(error.message),
                "errno": error.errno.map { .number(String($0.rawValue)) } ?? .null, "hint": error.hint.map { .string($0) } ?? .null,
            ])])
        }
        _ = sendMessage(document, on: socket)
    }

    /// The spawner reads the answer: nothing when the container runs, else the monitor's error
    /// as it was; nil when the monitor ended without answering.
    static func readAnswer(on socket: Int32) -> Result<Void, SwrunError>? {
        guard let document = receiveMessage(on: socket) else { return nil }
        if document["running"]?.bool == true { return .success(()) }
        let error = document["error"]
        return .failure(SwrunError(error?["code"]?.string.flatMap(SwrunError.Code.init(rawValue:)) ?? .containerSetup,
                                   error?["message"]?.string ?? "the monitor failed",
                                   errno: error?["errno"]?.int.map { Errno(rawValue: Int32($0)) }, hint: error?["hint"]?.string))
    }

    /// One JSON document per SOCK_SEQPACKET message.
    private static func sendMessage(_ document: JSONValue, on socket: Int32) -> Bool {
        let bytes = Array(document.serialized.utf8)
        return bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    private static func receiveMessage(on socket: Int32) -> JSONValue? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return try? JSONValue(parsing: buffer[0..<count])
    }
}
