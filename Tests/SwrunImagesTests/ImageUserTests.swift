import SwrunSystem
import Testing
@testable import SwrunImages

/// An image's User, resolved as Docker resolves it against the image's own files.
@Suite struct ImageUserTests {
    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        # a comment
        nginx:x:101:102:nginx user:/nonexistent:/bin/false
        app:x:1000:1000::/home/app:/bin/sh
        """
    static let group = "root:x:0:\nnginx:x:102:\nstaff:x:50:app\nvideo:x:44:nginx,app\n"

    @Test(arguments: [
        ("nginx", 101, 102),            // a name: its uid and primary group
        ("1000", 1000, 1000),           // a listed uid: its primary group
        ("4242", 4242, 0),              // an unlisted uid: group 0, as Docker does
        ("app:staff", 1000, 50),        // a group by name
        ("nginx:7", 101, 7),            // a group by number
        ("4242:4243", 4242, 4243),
        ("app:", 1000, 1000),
    ] as [(String, UInt32, UInt32)])
    func usersResolveAsDockerResolvesThem(user: String, uid: UInt32, gid: UInt32) throws {
        let ids = try ImageUser.resolve(user, passwd: Self.passwd, group: Self.group, image: "test")
        #expect(ids.uid == uid && ids.gid == gid)
    }

    @Test(arguments: [("nobody", "user 'nobody'"), ("app:wheel", "group 'wheel'")])
    func unknownNamesAreErrorsThatNameThem(user: String, message: String) {
        #expect {
            try ImageUser.resolve(user, passwd: Self.passwd, group: Self.group, image: "test")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("lxc.init.")
        }
    }

    @Test func homeAndSupplementaryGroupsComeFromTheImagesFiles() throws {
        let app = try ImageUser.resolve("app", passwd: Self.passwd, group: Self.group, image: "test")
        #expect(app.home == "/home/app" && app.groups == [50, 44])
        let root = try ImageUser.resolve("0", passwd: Self.passwd, group: Self.group, image: "test")
        #expect(root.home == "/root" && root.groups.isEmpty)
        let unlisted = try ImageUser.resolve("4242", passwd: Self.passwd, group: Self.group, image: "test")
        #expect(unlisted.home == nil && unlisted.groups.isEmpty)
    }

    @Test func anImageWithoutPasswdKnowsOnlyNumbers() throws {
        let ids = try ImageUser.resolve("33", passwd: nil, group: nil, image: "test")
        #expect(ids.uid == 33 && ids.gid == 0)
        #expect(throws: SwrunError.self) { try ImageUser.resolve("www-data", passwd: nil, group: nil, image: "test") }
    }
}
