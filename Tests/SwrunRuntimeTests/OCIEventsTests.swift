import Glibc
import SwrunJSON
import Testing
@testable import SwrunRuntime

/// `events`: runc's stats document, read from a cgroup's files (given here as text).
@Suite struct OCIEventsTests {
    static let v1: [String: String] = [
        "cpuacct.usage": "5000000", "cpuacct.usage_percpu": "3000000 2000000",
        "cpuacct.stat": "user 10\nsystem 5", "cpu.stat": "nr_periods 7\nnr_throttled 2\nthrottled_time 900",
        "memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192", "memory.failcnt": "1",
        "memory.limit_in_bytes": "9223372036854771712", "memory.stat": "cache 100\nrss 200",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3",
        "pids.current": "2", "pids.max": "max", "blkio.throttle.io_service_bytes": "8:0 Read 512\n8:0 Write 1024\nTotal 1536",
    ]
    static let v2: [String: String] = [
        "cpu.stat": "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 4\nnr_throttled 1\nthrottled_usec 10",
        "memory.current": "4096", "memory.max": "1048576", "memory.stat": "anon 200\nfile 100",
        "memory.events": "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1", "pids.current": "3", "pids.max": "40",
        "io.stat": "8:0 rbytes=512 wbytes=1024 rios=1 wios=2",
    ]

    @Test func v1FilesBecomeRuncsStats() {
        let stats = OCIEvents.stats { Self.v1[$0] }
        let hertz = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        #expect(stats["cpu"]?["usage"]?["total"] == .number("5000000"))
        #expect(stats["cpu"]?["usage"]?["percpu"] == [.number("3000000"), .number("2000000")])
        #expect(stats["cpu"]?["usage"]?["user"] == .number(String(10 * 1_000_000_000 / hertz)))
        #expect(stats["cpu"]?["throttling"] == ["periods": .number("7"), "throttled_periods": .number("2"), "throttled_time": .number("900")])
        #expect(stats["memory"]?["usage"] == ["usage": .number("4096"), "max": .number("8192"), "failcnt": .number("1"),
                                               "limit": .number(String(UInt64.max))], "v1's unlimited reads as runc's")
        #expect(stats["memory"]?["cache"] == .number("100") && stats["memory"]?["raw"]?["rss"] == .number("200"))
        #expect(stats["pids"] == ["current": .number("2"), "limit": .number("0")], "no pids limit is 0, as runc writes it")
        #expect(stats["blkio"]?["io_service_bytes_recursive"]?.array?.count == 2)
        #expect(OCIEvents.oomKills { Self.v1[$0] } == 3)
    }

    @Test func v2FilesBecomeTheSameFields() {
        let stats = OCIEvents.stats { Self.v2[$0] }
        #expect(stats["cpu"]?["usage"]?["total"] == .number("5000000") && stats["cpu"]?["usage"]?["kernel"] == .number("2000000"))
        #expect(stats["cpu"]?["throttling"]?["throttled_time"] == .number("10000"))
        #expect(stats["memory"]?["usage"] == ["usage": .number("4096"), "limit": .number("1048576")])
        #expect(stats["memory"]?["cache"] == .number("100"), "v2's file pages are v1's cache")
        #expect(stats["pids"] == ["current": .number("3"), "limit": .number("40")])
        #expect(stats["blkio"]?["io_service_bytes_recursive"]?[1] == ["major": .number("8"), "minor": .number("0"), "op": .string("Write"), "value": .number("1024")])
        #expect(OCIEvents.oomKills { Self.v2[$0] } == 1)
    }

    @Test func aCgroupWithoutFilesGivesEmptySections() {
        let stats = OCIEvents.stats { _ in nil }
        #expect(stats["pids"] == .object([:]) && stats["blkio"] == .object([:]) && stats["hugetlb"] == .object([:]))
        #expect(OCIEvents.oomKills { _ in nil } == nil)
    }
}
