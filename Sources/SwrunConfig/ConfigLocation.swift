import SwrunSystem

/// Where a setting was written: the file and the 1-based line, so that every
/// error can point the user at the exact line to fix.
public struct ConfigLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// "FILE:LINE", the form compilers use, so editors can jump to it.
    public var description: String { "\(file):\(line)" }
}

/// One `key = value` line, with its value already trimmed and unquoted the way LXC does.
public struct ConfigSetting: Sendable, Equatable {
    public var key: String
    public var value: String
    public var location: ConfigLocation

    public init(key: String, value: String, location: ConfigLocation) {
        self.key = key
        self.value = value
        self.location = location
    }
}

extension SwrunError {
    /// The error for a bad line: "FILE:LINE: what", code .invalidConfig.
    static func config(_ location: ConfigLocation, _ what: String, hint: String? = nil) -> SwrunError {
        SwrunError(.invalidConfig, "\(location): \(what)", hint: hint)
    }
}
