import Glibc

/// --explain: a learner's view of the start, one real call a line with why it is made.
public struct Explainer: Sendable {
    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// "[init] mount(...)\n       # why\n", one "#" line for each line of `why`;
    /// the child writes the same format, pre-rendered.
    static func line(actor: String, call: String, why: String) -> String {
        let tag = "[\(actor)]"
        let indent = String(repeating: " ", count: tag.count)
        let reasons = why.split(separator: "\n").map { "\(indent) # \($0)\n" }.joined()
        return "\(tag) \(call)\n" + reasons
    }

    /// Prints a step that swrun itself (the parent) makes. The text is only built when
    /// explaining: a start without --explain pays nothing for it.
    public func say(_ call: @autoclosure () -> String, _ why: @autoclosure () -> String) {
        guard enabled else { return }
        write(Self.line(actor: "swrun", call: call(), why: why()))
    }

    public func write(_ text: String) {
        Relay.writeAll(2, Array(text.utf8)[...])
    }
}
