import SwrunJSON
import SwrunSystem

/// OCI linux.intelRdt: the container's processes in a resctrl group (cache and memory
/// bandwidth allocation on Intel RDT and AMD PQoS hardware), named by closID or else by the
/// container's ID.
public struct IntelRDT: Sendable, Equatable {
    /// A group shared by name; nil: a group of the container's own, named as its ID.
    public var closID: String?
    /// "L3:0=ffff;1=3ff" lines; a line for MB: here is dropped (runc and crun take it so).
    public var l3CacheSchema: String?
    /// "MB:0=20;1=70".
    public var memBwSchema: String?
    /// Further schemata lines, written as given.
    public var schemata: [String] = []
    /// A monitoring group (mon_groups/ID) of the container's own (enableMonitoring; runtime-spec
    /// 1.1's enableCMT and enableMBM ask for the same group).
    public var monitoring = false

    public init(closID: String? = nil, l3CacheSchema: String? = nil, memBwSchema: String? = nil,
                schemata: [String] = [], monitoring: Bool = false) {
        self.closID = closID
        self.l3CacheSchema = l3CacheSchema
        self.memBwSchema = memBwSchema
        self.schemata = schemata
        self.monitoring = monitoring
    }

    /// Reads linux.intelRdt; nil when it sets nothing.
    static func read(_ value: JSONValue?, in document: OCIDocument) throws(SwrunError) -> IntelRDT? {
        guard let value, OCIDocument.isSet(value) else { return nil }
        func text(_ key: String) throws(SwrunError) -> String? {
            guard let field = value[key], !field.isNull else { return nil }
            guard let string = field.string else { throw document.error("linux.intelRdt.\(key)", "is not a string", hint: "give it as a JSON string") }
            return string.isEmpty ? nil : string
        }
        var rdt = IntelRDT(closID: try text("closID"), l3CacheSchema: try text("l3CacheSchema"), memBwSchema: try text("memBwSchema"))
        if let closID = rdt.closID, closID.contains("/") || closID == "." || closID == ".." {
            throw document.error("linux.intelRdt.closID", "'\(closID)' is not a resctrl group name", hint: "name a group without '/'")
        }
        for (index, line) in (value["schemata"]?.array ?? []).enumerated() {
            guard let line = line.string else { throw document.error("linux.intelRdt.schemata[\(index)]", "is not a string", hint: "give each schemata line as a string") }
            rdt.schemata.append(line)
        }
        rdt.monitoring = ["enableMonitoring", "enableCMT", "enableMBM"].contains { value[$0]?.bool == true }
        return rdt
    }

    /// Whether the schemata say anything: a closID alone names a group that must exist.
    var setsSchemata: Bool { l3CacheSchema != nil || memBwSchema != nil || !schemata.isEmpty }

    /// What goes into the group's schemata file: the L3 lines (without MB: lines), the MB
    /// line, the further lines, one a line.
    var schemataText: String {
        let l3 = l3CacheSchema.map { $0.split(separator: "\n").filter { !$0.hasPrefix("MB:") }.joined(separator: "\n") }
        return ([l3, memBwSchema].compactMap { $0 }.filter { !$0.isEmpty } + schemata).joined(separator: "\n") + "\n"
    }
}
