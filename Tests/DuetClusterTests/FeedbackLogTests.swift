import DuetCluster
import DuetModels
import DuetTestSupport
import Foundation
import Testing

@Suite struct FeedbackLogTests {
    func all(_ log: FeedbackLog, after: UInt64 = 0) throws -> [FeedbackLogRecord] {
        var out: [FeedbackLogRecord] = []
        try log.records(after: after) { out.append($0) }
        return out
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func appendsAreNumberedReadBackAndSurviveAReopen() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(directory: dir, sync: .always)
        #expect(log.lastSequence == 0)
        for i in 1...5 { #expect(try await log.append([UInt8(i), 0xAB]) == UInt64(i)) }
        #expect(try all(log, after: 3).map(\.payload) == [[4, 0xAB], [5, 0xAB]])
        log.close()
        await #expect(throws: FeedbackLogError.self) { try await log.append([1]) }

        let again = try FeedbackLog(directory: dir)
        #expect(again.recovery.records == 5 && again.recovery.tornTailBytes == 0 && again.recovery.damagedBytes == 0)
        #expect(try await again.append([6]) == 6)
        #expect(try all(again).map(\.sequence) == [1, 2, 3, 4, 5, 6])
        again.close()
    }

    @Test func concurrentAppendsGetDistinctSequencesInFileOrder() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(directory: dir, sync: .always)
        let seqs = try await withThrowingTaskGroup(of: (UInt64, UInt8).self) { group in
            for i in 0..<1000 { group.addTask { (try await log.append([UInt8(i % 256), UInt8(i / 256)]), UInt8(i % 256)) } }
            var out: [(UInt64, UInt8)] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(Set(seqs.map(\.0)) == Set(1...1000))
        let records = try all(log)
        #expect(records.map(\.sequence) == Array(1...1000))
        // Each append's sequence names its own payload.
        let bySeq = Dictionary(uniqueKeysWithValues: records.map { ($0.sequence, $0.payload[0]) })
        #expect(seqs.allSatisfy { bySeq[$0.0] == $0.1 })
        log.close()
    }

    @Test func aTornTailIsCutAndNumberingContinues() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(directory: dir, sync: .always)
        for i in 1...3 { _ = try await log.append(Array(repeating: UInt8(i), count: 10)) }
        log.close()
        let file = try #require(log.segmentPaths.last)
        // A crash mid-write: the third record loses its last 4 bytes.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(truncate(file, off_t(size - 4)) == 0)
        let again = try FeedbackLog(directory: dir)
        #expect(again.recovery.records == 2 && again.recovery.tornTailBytes == 22)
        #expect(try await again.append([9]) == 3)
        #expect(try all(again).map(\.payload) == [Array(repeating: 1, count: 10), Array(repeating: 2, count: 10), [9]])
        again.close()
    }

    @Test func aFlippedByteEndsTheSegmentThere() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(directory: dir, sync: .always)
        for i in 1...3 { _ = try await log.append([UInt8(i), 1, 2, 3]) }
        log.close()
        let file = try #require(log.segmentPaths.last)
        var bytes = try #require(FileManager.default.contents(atPath: file))
        bytes[20 + 18] ^= 0xFF  // inside the second record's payload
        try bytes.write(to: URL(fileURLWithPath: file))
        let again = try FeedbackLog(directory: dir)
        #expect(again.recovery.records == 1 && again.recovery.tornTailBytes == 40)
        #expect(try all(again).map(\.sequence) == [1])
        again.close()
    }

    @Test func segmentsRollAndTrimKeepsTheActiveOne() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(configuration: .init(directory: dir, sync: .no, segmentBytes: 100))
        for _ in 1...20 { _ = try await log.append(Array(repeating: 7, count: 34)) }  // 50 bytes a record: 2 per segment
        #expect(log.segmentPaths.count == 10)
        #expect(log.trim(through: 5) == 2)  // segments 1–2 and 3–4; 5–6 holds 6
        #expect(try all(log).map(\.sequence) == Array(5...20))
        #expect(try all(log, after: 12).map(\.sequence) == Array(13...20))
        #expect(log.trim(through: 1000) == 7)
        #expect(log.segmentPaths.count == 1)
        log.close()
        let again = try FeedbackLog(directory: dir)
        #expect(try await again.append([1]) == 21)  // the numbering survives trimming everything
        again.close()
    }

    @Test func skipPastACheckpointNeverNumbersTwice() async throws {
        let dir = try TestSupport.temporaryDirectory().path
        let log = try FeedbackLog(directory: dir)
        _ = try await log.append([1])
        try log.skip(past: 500)
        #expect(try await log.append([2]) == 501)
        log.close()
        let again = try FeedbackLog(directory: dir)
        #expect(again.lastSequence == 501)
        #expect(try all(again, after: 1).map(\.sequence) == [501])
        again.close()
    }

    /// Segments of random bytes, and valid logs with random damage: opening never traps, reads only
    /// intact records, in order, and numbering goes on after the last one. Seeded.
    @Test func damagedSegmentsNeverTrapAndKeepOnlyIntactRecords() async throws {
        var rng = SplitMix64(seed: 2026)
        func next() -> UInt64 { rng.next() }
        for round in 0..<60 {
            let dir = try TestSupport.temporaryDirectory().path
            let log = try FeedbackLog(directory: dir, sync: .no)
            let n = Int(next() % 20) + 1
            for i in 0..<n { _ = try await log.append((0..<Int(next() % 40)).map { _ in UInt8(truncatingIfNeeded: next() &+ UInt64(i)) }) }
            log.close()
            let file = try #require(log.segmentPaths.last)
            var bytes = [UInt8](try #require(FileManager.default.contents(atPath: file)))
            if round % 3 == 0 {
                bytes = (0..<Int(next() % 400)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                for _ in 0..<Int(next() % 4) + 1 { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let again = try FeedbackLog(directory: dir, sync: .no)
            let records = try all(again)
            #expect(records.map(\.sequence) == Array(1...UInt64(max(1, records.count))).prefix(records.count).map { $0 }, "round \(round)")
            #expect(records.count == again.recovery.records)
            #expect(try await again.append([1]) == UInt64(records.count + 1))
            again.close()
        }
    }

    @Test func tooLargeARecordIsRefused() async throws {
        let log = try FeedbackLog(directory: try TestSupport.temporaryDirectory().path)
        await #expect(throws: FeedbackLogError.self) { try await log.append(Array(repeating: 0, count: FeedbackLogRecord.maxPayload + 1)) }
        log.close()
    }
}
