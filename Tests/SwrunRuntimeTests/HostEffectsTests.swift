import Foundation
import Testing
@testable import SwrunRuntime

/// The host-effects journal: what a start changed on the host, undone newest first, from
/// memory or, after a crash, from the file; what cannot go yet stays for the next try.
@Suite struct HostEffectsTests {
    /// Records the order of undoing; refuses the effects in `busy` while they are there.
    final class RecordingUndoer: HostEffectUndoing {
        var undone: [HostEffect] = []
        var busy: [HostEffect] = []
        var namespaces: [Int32] = []
        func undo(_ effect: HostEffect, networkNamespace: Int32) -> Bool {
            namespaces.append(networkNamespace)
            if busy.contains(effect) { return false }
            undone.append(effect)
            return true
        }
    }

    static let effects: [HostEffect] = [
        .cgroup("/sys/fs/cgroup/pids/swrun-web-0a1b2c3d"),
        .cgroup("/sys/fs/cgroup/memory/process_api/x/swrun-web-0a1b2c3d"),
        .vethPair(hostEnd: "vs4242n0", index: 17),
        .movedLink(hostName: "dummy0", hostIndex: 9, insideIndex: 9),
        .publishedPorts(natKey: "web-5c2e9f3a11d04b7e"),
        .resctrlGroup("/sys/fs/resctrl/web"),
        .resctrlGroup("/sys/fs/resctrl/shared/mon_groups/web"),
    ]

    func directory() throws -> String {
        let path = NSTemporaryDirectory() + "effects-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func eachEffectReadsBackFromItsJournalLine() {
        for effect in Self.effects {
            #expect(HostEffect(line: Substring(effect.line)) == effect, "\(effect.line)")
        }
    }

    @Test func linesSwrunWouldNotWriteAreIgnored() {
        for line in ["cgroup /etc/passwd", "cgroup /sys/fs/cgroup/pids/../../../etc", "veth a/b 3", "veth vs1 x",
                     "veth averylonglinkname0 3", "link eth0 1", "nat ../x", "nat .lock", "rm -rf /", "cgroup",
                     "resctrl /etc", "resctrl /sys/fs/resctrl/../../../etc"] {
            #expect(HostEffect(line: Substring(line)) == nil, "\(line)")
        }
    }

    @Test func effectsAreUndoneNewestFirstAndTheJournalGoes() throws {
        let path = try directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let undoer = RecordingUndoer()
        let effects = HostEffects(directory: path, undoer: undoer)
        for effect in Self.effects { try effects.record(effect) }
        let text = try String(contentsOfFile: effects.journal, encoding: .utf8)
        #expect(text == ([HostEffects.header] + Self.effects.map(\.line)).joined(separator: "\n") + "\n")
        #expect(effects.undo())
        #expect(undoer.undone == Self.effects.reversed())
        #expect(!FileManager.default.fileExists(atPath: effects.journal))
    }

    /// After a crash another process reads the journal; the namespace is not held then, so a
    /// moved link is looked for on the host. A cgroup that is still busy stays journaled.
    @Test func aCrashesJournalIsUndoneByTheNextProcessAndKeepsWhatMustWait() throws {
        let path = try directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let crashed = HostEffects(directory: path, undoer: RecordingUndoer())
        for effect in Self.effects { try crashed.record(effect) }

        let later = RecordingUndoer()
        later.busy = [Self.effects[0]]
        #expect(!HostEffects.undoJournal(in: path, undoer: later))
        #expect(later.undone == Array(Self.effects.dropFirst().reversed()))
        #expect(later.namespaces.allSatisfy { $0 == -1 })
        let kept = try String(contentsOfFile: crashed.journal, encoding: .utf8)
        #expect(HostEffects.read(kept) == [Self.effects[0]])

        let retry = RecordingUndoer()
        #expect(HostEffects.undoJournal(in: path, undoer: retry))
        #expect(retry.undone == [Self.effects[0]])
        #expect(!FileManager.default.fileExists(atPath: crashed.journal))
    }

    @Test func noJournalIsNothingToUndo() throws {
        let path = try directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let undoer = RecordingUndoer()
        #expect(HostEffects.undoJournal(in: path, undoer: undoer))
        #expect(undoer.undone.isEmpty)
    }

    /// A pair the kernel is still removing keeps its host end's name for a moment: each start's is its own.
    @Test func vethHostEndNamesAreTheirStartsOwn() {
        let names = (0..<50).map { _ in LaunchedContainer.vethHostName(initPID: 4_194_304, index: 9) }
        #expect(Set(names).count == names.count && names.allSatisfy { $0.hasPrefix("vs") && $0.utf8.count <= 15 }, "\(names.prefix(3))")
    }
}
