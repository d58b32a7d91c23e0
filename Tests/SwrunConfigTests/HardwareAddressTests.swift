import Testing
@testable import SwrunConfig

/// lxc.net.N.hwaddr, with LXC's 'x' digits.
@Suite struct HardwareAddressTests {
    /// Always the same digit, so a test can say which one each 'x' got.
    struct FixedDigits: RandomNumberGenerator {
        func next() -> UInt64 { UInt64.max }
    }

    @Test func aCompleteAddressParsesAndPrintsBack() {
        #expect(HardwareAddress("00:16:3E:0a:ff:01")?.bytes == [0x00, 0x16, 0x3E, 0x0A, 0xFF, 0x01])
        #expect(HardwareAddress("00:16:3e:0a:ff:01")?.description == "00:16:3e:0a:ff:01")
    }

    @Test(arguments: ["", "00:16:3e:0a:ff", "00:16:3e:0a:ff:01:02", "0:16:3e:0a:ff:01", "00:16:3e:0a:ff:zz",
                      "01:16:3e:0a:ff:01", "00:16:3e:xx:xx:xx", "00-16-3e-0a-ff-01"])
    func othersAreNotAddresses(text: String) {
        #expect(HardwareAddress(text) == nil)
    }

    @Test func xDigitsAreFilledAndTheRestKept() {
        var generator = FixedDigits()
        #expect(HardwareAddress.completing("00:16:3e:xx:Xx:0x", using: &generator)?.description == "00:16:3e:ff:ff:0f")
    }

    @Test func anXInTheFirstBytesLowDigitKeepsTheAddressUnicast() {
        var generator = FixedDigits()
        #expect(HardwareAddress.completing("xx:xx:xx:xx:xx:xx", using: &generator)?.description == "fe:ff:ff:ff:ff:ff")
    }

    @Test func twoCompletionsDiffer() {
        var random = SystemRandomNumberGenerator()
        let addresses = (0..<8).compactMap { _ in HardwareAddress.completing("00:16:3e:xx:xx:xx", using: &random) }
        #expect(addresses.count == 8)
        #expect(Set(addresses.map(\.description)).count > 1)
    }

    @Test func aBadValueIsRefusedWhereItIsWritten() {
        let error = swrunError { _ = try container("lxc.net.0.type = veth\nlxc.net.0.hwaddr = 01:16:3e:xx:xx:xx\n") }
        #expect(error?.message.contains("test.conf:2") == true, "\(String(describing: error))")
        #expect(error?.message.contains("is not a unicast MAC address") == true, "\(String(describing: error))")
        #expect(throws: Never.self) { _ = try container("lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n") }
    }
}
