import SwrunSystem

/// One lxc.mount.entry line, or one line of the lxc.mount.fstab file, in fstab(5) form:
/// SOURCE TARGET FSTYPE [OPTIONS [DUMP [PASS]]]. TARGET is usually relative to the rootfs.
public struct MountEntry: Sendable, Equatable {
    public enum CreateKind: Sendable, Equatable { case directory, file }

    public var source: String
    public var target: String
    public var fsType: String
    /// The options as written, in order.
    public var options: [String]
    public var dump: Int
    public var pass: Int
    public var location: ConfigLocation
    /// MS_* flags from the options (ro, nosuid, bind, rbind = MS_BIND|MS_REC, remount ...),
    /// without propagation, which mount(2) cannot change in the same call.
    public var flags: UInt
    /// MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE, with MS_REC for the r* forms; 0 for none.
    public var propagation: UInt
    /// The options that are not flags, comma-joined, for the filesystem (mode=755, size=10m ...).
    /// LXC's own options (create=, optional, relative) are left out.
    public var data: String
    /// create=dir or create=file: make the target before mounting.
    public var create: CreateKind?
    /// "optional": a failed mount is not an error.
    public var optional: Bool
    /// "relative": the source is relative to the container's rootfs.
    public var relative: Bool
    /// OCI's rro (true) and rrw (false): the mount and every mount below it made read-only, or
    /// writable, with mount_setattr(AT_RECURSIVE) once mounted; nil: neither.
    public var recursiveReadOnly: Bool? = nil
    /// An id-mapped bind (OCI's mounts[].uidMappings and gidMappings, idmap and ridmap): the
    /// source's files seen through these maps (on-disk id as containerID, shown as hostID);
    /// empty: none.
    public var idMaps: [IDMap] = []
    /// ridmap: the mounts below the bind's source are id-mapped too, not only the top one.
    public var recursiveIDMap = false

    /// Parses one fstab-style line; errors are "FILE:LINE: lxc.mount.entry: ...".
    public static func parse(_ line: String, location: ConfigLocation, key: String = "lxc.mount.entry") throws(SwrunError) -> MountEntry {
        do {
            var entry = try parseFields(line)
            entry.location = location
            return entry
        } catch {
            throw SwrunError.config(location, "\(key): \(error.message)", hint: error.hint)
        }
    }

    /// A mount given field by field (an OCI bundle's), its options read as an fstab line's.
    public static func make(source: String, target: String, fsType: String, options: [String],
                            location: ConfigLocation, key: String) throws(SwrunError) -> MountEntry {
        var entry = MountEntry(source: source, target: target, fsType: fsType, options: options, dump: 0, pass: 0,
                               location: location, flags: 0, propagation: 0, data: "", create: nil, optional: false, relative: false)
        do { try entry.interpretOptions() } catch {
            throw SwrunError(.invalidConfig, "\(location.file): \(key): \(error.message)", hint: error.hint)
        }
        return entry
    }

    /// The fields of an fstab line, split on blanks, with the octal escapes of fstab(5)
    /// (\040 for a space) decoded, as getmntent(3), which LXC uses, reads them.
    static func parseFields(_ line: String) throws(ValueError) -> MountEntry {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { decode(String($0)) }
        guard fields.count >= 3 else {
            throw ValueError("'\(line)' is not a mount entry",
                             hint: "write SOURCE TARGET FSTYPE [OPTIONS [DUMP [PASS]]], e.g. '/srv/data srv/data none bind,create=dir 0 0'")
        }
        guard fields.count <= 6 else {
            throw ValueError("'\(line)' has \(fields.count) fields, at most 6 are allowed",
                             hint: "write a space inside a path as \\040")
        }
        var numbers: [Int] = []
        for field in fields.dropFirst(4) {
            guard let number = Int(field), number >= 0 else {
                throw ValueError("'\(field)' is not a number", hint: "the 5th and 6th fields (dump and pass) are numbers, usually 0 0")
            }
            numbers.append(number)
        }
        let options = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
        var entry = MountEntry(source: fields[0], target: fields[1], fsType: fields[2], options: options,
                               dump: numbers.first ?? 0, pass: numbers.count > 1 ? numbers[1] : 0,
                               location: ConfigLocation(file: "", line: 0), flags: 0, propagation: 0, data: "",
                               create: nil, optional: false, relative: false)
        try entry.interpretOptions()
        return entry
    }

    private mutating func interpretOptions() throws(ValueError) {
        var data: [String] = []
        for option in options {
            switch option {
            case "create=dir": create = .directory
            case "create=file": create = .file
            case "optional": optional = true
            case "relative": relative = true
            default:
                if option.hasPrefix("idmap=") {
                    throw ValueError("idmapped mounts (\(option)) are not supported yet",
                                     hint: "remove the idmap= option, or leave this entry out")
                }
                if let flag = MountOptions.flags[option] {
                    if flag.clears { flags &= ~flag.bits } else { flags |= flag.bits }
                } else if let bits = MountOptions.propagation[option] {
                    propagation = bits
                } else {
                    data.append(option)
                }
            }
        }
        self.data = data.joined(separator: ",")
    }

    /// A field as fstab(5) writes it: spaces, tabs, newlines and backslashes as \NNN.
    public static func encode(_ field: String) -> String {
        var bytes: [UInt8] = []
        for byte in field.utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x5C {
                let octal = String(byte, radix: 8)
                bytes += Array(("\\" + String(repeating: "0", count: 3 - octal.count) + octal).utf8)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// \NNN octal escapes, as fstab(5) writes spaces, tabs, newlines and backslashes.
    static func decode(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), let value = octal(source[(index + 1)..<min(index + 4, source.count)]) {
                bytes.append(value)
                index += 4
            } else if source[index] == UInt8(ascii: "\\"), index + 1 < source.count, source[index + 1] == UInt8(ascii: "\\") {
                bytes.append(UInt8(ascii: "\\"))
                index += 2
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }
}

extension MountEntry {
    /// The entries of an fstab file (lxc.mount.fstab): blank lines and '#' comments skipped.
    public static func entries(ofFstab path: String) throws(SwrunError) -> [MountEntry] {
        let text = try FileSystem.readText(path)
        var entries: [MountEntry] = []
        for (number, piece) in ConfigFile.split(text).enumerated() {
            let line = piece.text.trimmingBlanks()
            if line.isEmpty || line.hasPrefix("#") { continue }
            entries.append(try parse(String(line), location: ConfigLocation(file: path, line: number + 1), key: "fstab entry"))
        }
        return entries
    }
}
