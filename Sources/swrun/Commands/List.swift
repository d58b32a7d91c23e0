import ArgumentParser
import SwrunConfig
import SwrunRuntime
import SwrunSystem

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List containers (lxc-ls).")

    @OptionGroup var path: LXCPathOption

    @Flag(name: .long, help: "A table with each container's state and settings.")
    var fancy = false

    @Option(name: [.customShort("F"), .customLong("fancy-format")], help: "Columns for --fancy, comma separated: \(Column.allCases.map(\.rawValue).joined(separator: ",")).")
    var fancyFormat: String = "name,state,autostart,groups,ipv4,ipv6,unprivileged"

    @Flag(name: .customShort("1"), help: "One name a line.")
    var oneLine = false

    @Option(name: .long, help: "text or json.")
    var format: OutputFormat = .text

    enum Column: String, CaseIterable {
        case name, state, pid, autostart, groups, ipv4, ipv6, unprivileged
    }

    func run() throws {
        try reportingErrors { () throws(SwrunError) -> Int32 in
            let store = try path.store()
            let containers = try store.names().map { ContainerSummary(store: store, name: $0) }
            switch format {
            case .json:
                print(JSON.array(containers.map(\.json)).text)
            case .text where fancy:
                var columns: [Column] = []
                for name in fancyFormat.split(separator: ",") {
                    guard let column = Column(rawValue: name.lowercased()) else {
                        throw SwrunError(.invalidArgument, "unknown column '\(name)'",
                                         hint: "choose from \(Column.allCases.map(\.rawValue).joined(separator: ","))")
                    }
                    columns.append(column)
                }
                print(table(columns.map { $0.rawValue.uppercased() }, containers.map { summary in columns.map(summary.cell) }), terminator: "")
            case .text:
                if !containers.isEmpty {
                    print(containers.map(\.name).joined(separator: oneLine ? "\n" : "  "))
                }
            }
            return 0
        }
    }
}

/// What `ls` knows of one container: its state from the run lock, the rest from its config.
struct ContainerSummary {
    let name: String
    let state: ContainerState
    let autostart: Bool
    let groups: [String]
    let unprivileged: Bool

    init(store: ContainerStore, name: String) {
        self.name = name
        state = store.state(of: name)
        let settings = (try? ContainerConfig.load(store.configPath(of: name)))?.settings ?? []
        func last(_ key: String) -> String? { settings.last(where: { $0.key == key })?.value }
        autostart = last("lxc.start.auto") == "1"
        groups = settings.filter { $0.key == "lxc.group" }.flatMap { $0.value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init) }
        unprivileged = settings.contains { $0.key == "lxc.idmap" && !$0.value.isEmpty }
    }

    var pid: Int32? {
        if case .running(let pid) = state { return pid }
        return nil
    }

    func cell(_ column: List.Column) -> String {
        switch column {
        case .name: return name
        case .state: return state.name
        case .pid: return pid.map(String.init) ?? "-"
        case .autostart: return autostart ? "1" : "0"
        case .groups: return groups.isEmpty ? "-" : groups.joined(separator: ",")
        case .ipv4, .ipv6: return "-"  // the container has only lo until swrun builds networks
        case .unprivileged: return unprivileged ? "true" : "false"
        }
    }

    var json: JSON {
        .object([
            ("name", .string(name)), ("state", .string(state.name)), ("pid", pid.map { .number(Int($0)) } ?? .null),
            ("autostart", .bool(autostart)), ("groups", .array(groups.map(JSON.string))),
            ("ipv4", .array([])), ("ipv6", .array([])), ("unprivileged", .bool(unprivileged)),
        ])
    }
}
