import Testing
@testable import SwrunSystem

@Suite struct KernelVersionTests {
    @Test(arguments: [("6.18.0-1-amd64", 6, 18), ("5.4.0", 5, 4), ("4.18.0-553.el8_10.x86_64", 4, 18), ("garbage", 0, 0)] as [(String, Int, Int)])
    func releasesReadAsMajorAndMinor(release: String, major: Int, minor: Int) {
        #expect(KernelVersion.parse(release) == (major, minor))
    }
}
