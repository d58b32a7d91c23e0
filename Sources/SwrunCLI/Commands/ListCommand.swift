import SwrunConfig
import SwrunRuntime
import SwrunSystem

enum ListCommand: Command {
    enum Column: String, CaseIterable {
        case name, state, pid, autostart, groups, ipv4, ipv6, unprivileged
    }

    static let spec = CommandSpec(
        name: "ls",
        abstract: "List containers (lxc-ls).",
        options: [
            CommonOptions.lxcPath,
            .init(short: nil, long: "fancy", value: nil, help: "A table with each container's state and settings."),
            .init(short: "F", long: "fancy-format", value: "COLUMNS",
                  help: "Columns for --fancy, comma separated: \(Column.allCases.map(\.rawValue).joined(separator: ","))."),
            .init(short: "1", long: "line", value: nil, help: "One name a line."),
            CommonOptions.format("text or json."),
        ])

    static func run(_ arguments: ParsedArguments) throws(SwrunError) -> Int32 {
        let store = try arguments.store()
        let format = try OutputFormat(arguments.value("format"))
        let columns = try columns(arguments.value("fancy-format") ?? "name,state,autostart,groups,ipv4,ipv6,unprivileged")
        let containers = try store.names().map { ContainerSummary(store: store, name: $0) }
        switch format {
        case .json:
            print(JSON.array(containers.map(\.json)).text)
        case .text where arguments.flag("fancy"):
            print(table(columns.map { $0.rawValue.uppercased() }, containers.map { summary in columns.map(summary.cell) }), terminator: "")
        case .text:
            if !containers.isEmpty { print(containers.map(\.name).joined(separator: arguments.flag("line") ? "\n" : "  ")) }
        }
        return 0
    }

    private static func columns(_ list: String) throws(SwrunError) -> [Column] {
        var columns: [Column] = []
        for name in list.split(separator: ",") {
            guard let column = Column(rawValue: name.lowercased()) else {
                throw SwrunError(.invalidArgument, "unknown column '\(name)'", hint: "choose from \(Column.allCases.map(\.rawValue).joined(separator: ","))")
            }
            columns.append(column)
        }
        return columns
    }
}

/// What `ls` knows of one container: its state from the run lock, the rest from its config.
struct ContainerSummary {
    let name: String
    let status: ContainerStatus
    let autostart: Bool
    let groups: [String]
    let unprivileged: Bool
    let network: ContainerNetworkView?

    init(store: ContainerStore, name: String) {
        self.name = name
        status = store.status(of: name)
        network = status.state == .running ? status.initPID.map(ContainerNetworkView.init(initPID:)) : nil
        let settings = (try? store.config(of: name))?.settings ?? []
        autostart = settings.last(where: { $0.key == "lxc.start.auto" })?.value == "1"
        groups = Autostart.entry(name: name, settings: settings).groups
        unprivileged = settings.contains { $0.key == "lxc.idmap" && !$0.value.isEmpty }
    }

    var pid: Int32? { status.initPID }

    func cell(_ column: ListCommand.Column) -> String {
        switch column {
        case .name: return name
        case .state: return status.state.name
        case .pid: return pid.map(String.init) ?? "-"
        case .autostart: return autostart ? "1" : "0"
        case .groups: return groups.isEmpty ? "-" : groups.joined(separator: ",")
        case .ipv4: return network.flatMap { $0.ipv4.isEmpty ? nil : $0.ipv4.joined(separator: ", ") } ?? "-"
        case .ipv6: return network.flatMap { $0.ipv6.isEmpty ? nil : $0.ipv6.joined(separator: ", ") } ?? "-"
        case .unprivileged: return unprivileged ? "true" : "false"
        }
    }

    var json: JSON {
        .object([
            ("name", .string(name)), ("state", .string(status.state.name)), ("pid", pid.map { .number(Int($0)) } ?? .null),
            ("autostart", .bool(autostart)), ("groups", .array(groups.map(JSON.string))),
            ("ipv4", .array((network?.ipv4 ?? []).map(JSON.string))), ("ipv6", .array((network?.ipv6 ?? []).map(JSON.string))),
            ("unprivileged", .bool(unprivileged)),
        ])
    }
}
