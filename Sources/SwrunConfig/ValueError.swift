/// Why one value is wrong, before it is tied to a file and line.
/// The parsers throw this; ContainerConfig turns it into "FILE:LINE: KEY: message".
struct ValueError: Error, Equatable {
    var message: String
    var hint: String?

    init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
