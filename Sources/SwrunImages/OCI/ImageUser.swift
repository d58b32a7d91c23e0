import SwrunSystem

/// An image config's User ("name", "uid", "name:group", "uid:gid", ...) as the ids its
/// command runs with, resolved as Docker resolves it: names through the image's own
/// /etc/passwd and /etc/group; without a group, the user's primary group from /etc/passwd,
/// or group 0 for a uid that /etc/passwd does not list.
public enum ImageUser {
    /// Who a process runs as, with what Docker derives from the image's files.
    public struct Account: Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        /// The home directory /etc/passwd gives the user; nil for a uid it does not list.
        public var home: String?
        /// The groups of /etc/group that list the user's name as a member.
        public var groups: [UInt32] = []

        public init(uid: UInt32, gid: UInt32, home: String? = nil, groups: [UInt32] = []) {
            (self.uid, self.gid, self.home, self.groups) = (uid, gid, home, groups)
        }
    }

    public static func resolve(_ user: String, passwd: String?, group: String?, image: String) throws(SwrunError) -> Account {
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let users = entries(passwd)
        let account: [String]?
        let uid: UInt32
        if let number = UInt32(parts[0]) {
            uid = number
            account = users.first { UInt32($0[2]) == number }
        } else {
            guard let found = users.first(where: { $0[0] == parts[0] }), let number = UInt32(found[2]) else {
                throw SwrunError(.invalidConfig, "the image \(image) runs as user '\(parts[0])', whom its /etc/passwd does not list",
                                 hint: "set lxc.init.uid and lxc.init.gid in the container's config")
            }
            uid = number
            account = found
        }
        let groups = entries(group)
        var result = Account(uid: uid, gid: account.flatMap { UInt32($0[3]) } ?? 0)
        if let account {
            result.home = account.count > 5 && !account[5].isEmpty ? account[5] : nil
            result.groups = groups.filter { $0[3].split(separator: ",").contains(Substring(account[0])) }.compactMap { UInt32($0[2]) }
        }
        guard parts.count == 2, !parts[1].isEmpty else { return result }
        if let number = UInt32(parts[1]) {
            result.gid = number
            return result
        }
        guard let found = groups.first(where: { $0[0] == parts[1] }), let gid = UInt32(found[2]) else {
            throw SwrunError(.invalidConfig, "the image \(image) runs as group '\(parts[1])', which its /etc/group does not list",
                             hint: "set lxc.init.gid in the container's config")
        }
        result.gid = gid
        return result
    }

    /// The colon-separated lines of a passwd or group file with at least four fields.
    static func entries(_ text: String?) -> [[String]] {
        (text ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return fields.count >= 4 && !line.hasPrefix("#") ? fields : nil
        }
    }
}
