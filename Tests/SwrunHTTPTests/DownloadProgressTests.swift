import SwrunHTTP
import Testing

@Suite struct DownloadProgressTests {
    @Test func formatsTheLine() {
        let line = DownloadProgress.line(name: "alpine", completed: 12_897_485, total: 41_943_040, bytesPerSecond: 2_202_009)
        #expect(line == "alpine  12.3 MiB / 40.0 MiB  2.1 MiB/s  ETA 0:14")
        #expect(DownloadProgress.line(name: "x", completed: 512, total: nil, bytesPerSecond: nil) == "x  512 B")
    }

    @Test func formatsSizesAndDurations() {
        #expect(DownloadProgress.formatBytes(1023) == "1023 B")
        #expect(DownloadProgress.formatBytes(1536) == "1.5 KiB")
        #expect(DownloadProgress.formatBytes(3 << 30) == "3.0 GiB")
        #expect(DownloadProgress.formatDuration(13) == "0:13")
        #expect(DownloadProgress.formatDuration(725) == "12:05")
        #expect(DownloadProgress.formatDuration(3723) == "1:02:03")
    }

    @Test func redrawsAtMostTenTimesASecondAndEndsTheLine() {
        var now = 100.0
        var output: [String] = []
        let progress = DownloadProgress(name: "img", enabled: true, clock: { now }) { output.append($0) }
        progress.start(total: 4096, completed: 1024)
        for _ in 0..<9 {
            now += 0.01
            progress.advance(by: 100)  // too soon after the last draw: no output
        }
        #expect(output.count == 1)
        now += 1
        progress.advance(by: 1172)
        #expect(output.count == 2)
        #expect(output.last == "\rimg  3.0 KiB / 4.0 KiB  1.9 KiB/s  ETA 0:01\u{1B}[K")
        progress.finish()
        #expect(output.last == "\n")
    }

    @Test func printsNothingWhenDisabled() {
        var output: [String] = []
        let progress = DownloadProgress(name: "img", enabled: false, clock: { 0 }) { output.append($0) }
        progress.start(total: 10, completed: 0)
        progress.advance(by: 10)
        progress.finish()
        #expect(output.isEmpty)
    }
}
