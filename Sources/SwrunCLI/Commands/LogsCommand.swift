import Glibc
import SwrunRuntime
import SwrunSystem

enum LogsCommand: Command {
    static let spec = CommandSpec(
        name: "logs",
        abstract: "A started container's console output (docker logs).",
        discussion: """
        The monitor of a started container (`start`, `run -d`) appends its console's output to
        lxc.console.logfile, which containers made by `run` or from images have in
        LXCPATH/NAME/console.log; set that key for others. The console is a terminal, which ends
        lines in \\r\\n: logs prints them ending in \\n, as a program's own output would.
        """,
        options: [.init(short: "f", long: "follow", value: nil, help: "Keep printing new output until the container stops."),
                  .init(short: "n", long: "tail", value: "N", help: "Only the last N lines (or all)."),
                  .init(short: "t", long: "timestamps", value: nil, help: "Begin each line with when it came (RFC 3339, UTC)."),
                  CommonOptions.lxcPath],
        arguments: [.init(name: "NAME", help: "The container.", completes: .container)])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let name = arguments.arguments[0]
        let store = try arguments.store()
        try store.requireExisting(name)
        let tail = try arguments.value("tail").flatMap { text throws(SwrunError) -> Int? in
            if text == "all" { return nil }
            guard let count = Int(text), count >= 0 else {
                throw SwrunError(.invalidArgument, "--tail \(text): not a number of lines", hint: "for example --tail 20, or --tail all")
            }
            return count
        }
        guard let log = try store.config(of: name).consoleLogFile.map({ $0.hasPrefix("/") ? $0 : FileSystem.join(store.directory(of: name), $0) }) else {
            throw SwrunError(.notFound, "container '\(name)' keeps no console log (it has no lxc.console.logfile)",
                             hint: "add lxc.console.logfile = console.log to \(store.configPath(of: name)) and start it again")
        }
        let fd = open(log, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return 0 }  // started never, or nothing written yet
            throw SwrunError.system("cannot read the console log \(log)", Errno.current)
        }
        defer { close(fd) }
        var printer = LogPrinter(times: arguments.flag("timestamps") ? ConsoleLogTimes.load(ofLog: log) : nil)
        let existing = readAll(fd)
        var start = 0
        if let tail { start = LogPrinter.startOfLast(tail, lines: existing) }
        printer.write(existing[start...], at: start)
        guard arguments.flag("follow") else { return 0 }
        var offset = existing.count
        while true {
            let running = store.status(of: name).state != .stopped
            let more = readAll(fd)
            if !more.isEmpty {
                if printer.times != nil { printer.times = ConsoleLogTimes.load(ofLog: log) }
                printer.write(more[...], at: offset)
                offset += more.count
            } else if !running {
                return 0
            }
            usleep(200_000)
        }
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return result }
            result += chunk[0..<count]
        }
    }
}

/// Writes log bytes to stdout, each line with its time where asked.
struct LogPrinter {
    var times: [(offset: Int, seconds: Int, nanoseconds: Int)]?
    private var atLineStart = true

    init(times: [(offset: Int, seconds: Int, nanoseconds: Int)]?) { self.times = times }

    /// The offset where the last `count` lines of `lines` begin.
    static func startOfLast(_ count: Int, lines bytes: [UInt8]) -> Int {
        guard count > 0 else { return bytes.count }
        var seen = 0
        var index = bytes.count - 1
        if index >= 0 && bytes[index] == 0x0A { index -= 1 }  // the last line's own newline
        while index >= 0 {
            if bytes[index] == 0x0A {
                seen += 1
                if seen == count { return index + 1 }
            }
            index -= 1
        }
        return 0
    }

    /// `bytes`, which start at `offset` of the log; the terminal's "\r\n" becomes "\n".
    mutating func write(_ bytes: ArraySlice<UInt8>, at offset: Int) {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for (index, byte) in zip(bytes.indices, bytes) {
            if byte == 0x0D && index + 1 < bytes.endIndex && bytes[index + 1] == 0x0A { continue }
            if atLineStart, let times {
                let position = offset + (index - bytes.startIndex)
                let stamp = times.last { $0.offset <= position }
                output += Array(((stamp.map { ConsoleLogTimes.format(seconds: $0.seconds, nanoseconds: $0.nanoseconds) }) ?? "-").utf8) + [0x20]
            }
            output.append(byte)
            atLineStart = byte == 0x0A
        }
        Relay.writeAll(1, output[...])
    }
}
