import Testing
import SwrunNetlink

/// Link names the kernel takes (dev_valid_name), checked before any request is sent.
@Suite struct LinkNameTests {
    @Test(arguments: ["eth0", "lxcbr0", "vethweb0", "a", "fifteen-chars-x"])
    func validNames(name: String) {
        #expect(LinkName.problem(name) == nil)
    }

    @Test(arguments: ["", "sixteen-chars-xx", ".", "..", "a/b", "eth0:1", "my eth", "tab\tname"])
    func invalidNames(name: String) {
        #expect(LinkName.problem(name)?.hasPrefix("'\(name)' is not a link name") == true)
    }
}
