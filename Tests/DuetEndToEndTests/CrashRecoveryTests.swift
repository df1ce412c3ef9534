import DuetTestSupport
import Foundation
import Synchronization
import Testing

/// The real binary, killed with SIGKILL under steady feedback and restarted on the same data directory.
@Suite(.serialized) struct CrashRecoveryTests {
    /// Sends recommend + feedback pairs from `workers` tasks until `acked.stop` is set; counts
    /// acknowledged feedback. (Stopped by a flag, not by cancelling: cancelling a task while
    /// Foundation's URLSession completes its request deadlocks on Linux.)
    static func feedbackLoad(_ s: DuetServerProcess, acked: Counter, workers: Int = 6) -> Task<Void, Never> {
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for w in 0..<workers {
                    group.addTask {
                        var n = 0
                        while !acked.stop.load(ordering: .relaxed) {
                            n += 1
                            guard let (status, rec) = try? await s.post("/v1/recommend", [
                                "experiment": "homepage", "user": "qa-online", "candidates": ["1", "2", "3"], "k": 3,
                                "context": ["position": "1"],
                            ]), status == 200, let rid = rec["request_id"] as? String else { continue }
                            let body: [String: Any] = ["request_id": rid, "item": "2", "label": (w + n) % 3 == 0 ? 1 : 0]
                            if let (fs, _) = try? await s.post("/v1/feedback", body), fs == 200 {
                                acked.value.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
        }
    }

    static func gauge(_ s: DuetServerProcess, _ name: String) async throws -> Double? {
        let text = String(decoding: try await s.get("/metrics").1, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func fiveKillsUnderFeedbackLoseNothingAcknowledged() async throws {
        let dir = try ServerHarness.dataDirectory()
        let acked = Counter()
        var versionsSeen: [Int] = []
        for round in 1...5 {
            let s = try await ServerHarness.start(dir)
            if round == 1 {
                // A revision and its audit row before the first crash.
                #expect(try ServerHarness.cli(s, ["experiment", "apply", try ControlPlaneTests.write(ControlPlaneTests.allOnline)]).status == 0)
            }
            // Everything acknowledged before this start was learned again (the log replays what the
            // checkpoint had not learned); events written but killed before their answer add at most
            // one per load worker per kill.
            let before = acked.value.load(ordering: .relaxed), unanswered = 6 * (round - 1)
            let learned = try await Self.gauge(s, "duet_feedback_log_learned_sequence") ?? -1
            let written = try await Self.gauge(s, "duet_feedback_log_sequence") ?? -1
            #expect(Int(learned) >= before && Int(learned) <= before + unanswered, "round \(round): learned \(learned), acknowledged \(before)")
            #expect(learned == written, "round \(round): the replay learned the whole log")
            let current = Int(try await ServerHarness.admin(s, "GET", "/v1/admin/models/online").1["current"] as? String ?? "") ?? -1
            // Ids never repeat: the resumed model is newer than every version served before the crash.
            #expect(current > (versionsSeen.max() ?? 0) || round == 1 && current >= 1, "round \(round): current \(current) after \(versionsSeen)")

            let load = Self.feedbackLoad(s, acked: acked)
            try await Task.sleep(for: .milliseconds(800 + 300 * round))
            let served = ServerHarness.modelVersion(try await ServerHarness.recommend(s, user: "qa-online"))
            versionsSeen.append(Int(served) ?? 0)
            kill(s.process.processIdentifier, SIGKILL)
            acked.stop.store(true, ordering: .relaxed)
            await load.value
            acked.stop.store(false, ordering: .relaxed)
            s.process.waitUntilExit()
            #expect(acked.value.load(ordering: .relaxed) > before, "round \(round): no feedback was acknowledged")
        }

        let s = try await ServerHarness.start(dir)
        defer { s.stop() }
        let total = acked.value.load(ordering: .relaxed)
        let learned = Int(try await Self.gauge(s, "duet_feedback_log_learned_sequence") ?? -1)
        #expect(learned >= total && learned <= total + 6 * 5, "learned \(learned), acknowledged \(total)")
        #expect(s.log.contains("feedback log replayed"))
        // A rollback reaches the pre-crash checkpoint the server resumed from.
        let r = try ServerHarness.cli(s, ["rollback", "online"])
        #expect(r.status == 0, "\(r.stderr)")
        // Revisions, audit and counts came through every kill (counts are saved every second: a crash
        // may lose the last second of them, never what was saved).
        #expect(try ServerHarness.cli(s, ["experiment", "list"]).stdout.contains("homepage\trevision 2"))
        #expect(try ServerHarness.cli(s, ["audit"]).stdout.contains("experiment.apply\thomepage"))
        let report = try await ServerHarness.admin(s, "GET", "/v1/admin/experiments/homepage/report").1
        let requests = (report["arms"] as? [[String: Any]] ?? []).map { $0["requests"] as? Int ?? 0 }.reduce(0, +)
        #expect(requests > 0, "the counts restarted from zero: \(report)")
        // SQLite came through every kill intact.
        let check = try TestSupport.run(
            ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])",
             dir.appendingPathComponent("duet.sqlite").path],
            executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        // No interrupted checkpoint writes are left behind.
        let online = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models/online").path)
        #expect(!online.contains { $0.contains(".tmp") }, "\(online)")
    }

    @Test func aTornLastLogRecordIsSkippedAndTheRestIsLearned() async throws {
        let dir = try ServerHarness.dataDirectory()
        let s = try await ServerHarness.start(dir, environment: ["DUET_CHECKPOINT_INTERVAL_MS": "600000"])
        for i in 0..<20 {
            let rec = try await ServerHarness.recommend(s, user: "qa-online")
            let (status, _) = try await s.post("/v1/feedback", ["request_id": rec["request_id"] as? String ?? "", "item": "1", "label": i % 2])
            #expect(status == 200)
        }
        kill(s.process.processIdentifier, SIGKILL)
        s.process.waitUntilExit()
        // A crash mid-append: the last record loses its tail.
        let logDir = dir.appendingPathComponent("feedback")
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: logDir.path).filter { $0.hasSuffix(".log") }.sorted().last)
        let path = logDir.appendingPathComponent(segment).path
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(truncate(path, off_t(size - 5)) == 0)

        let again = try await ServerHarness.start(dir)
        defer { again.stop() }
        #expect(try await Self.gauge(again, "duet_feedback_log_learned_sequence") == 19)
        #expect(again.log.contains("torn tail record skipped"))
        // Numbering goes on from the last whole record.
        let rec = try await ServerHarness.recommend(again, user: "qa-online")
        #expect(try await again.post("/v1/feedback", ["request_id": rec["request_id"] as? String ?? "", "item": "1", "label": 1]).0 == 200)
        #expect(try await ServerHarness.eventually { try await Self.gauge(again, "duet_feedback_log_learned_sequence") == 20 })
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefusedAndTouchesNothing() async throws {
        let dir = try ServerHarness.dataDirectory()
        let s = try await ServerHarness.start(dir)
        defer { s.stop() }
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models/online").path).sorted()
        let r = try TestSupport.run(["serve", "--port", "\(TestSupport.freePort())", "--data-dir", dir.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("in use by another duet serve (pid \(s.process.processIdentifier))"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("models/online").path).sorted() == before)
        #expect(try await s.get("/healthz").0 == 200)
    }

    @Test func anEmptyDatabaseFileIsAnErrorNotAFirstStart() throws {
        let dir = try ServerHarness.dataDirectory()
        let db = dir.appendingPathComponent("duet.sqlite").path
        #expect(FileManager.default.createFile(atPath: db, contents: Data()))
        let r = try TestSupport.run(["serve", "--port", "\(TestSupport.freePort())", "--data-dir", dir.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("\(db) exists but is empty"), "\(r.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int == 0)
    }
}

/// A count shared by the load's tasks.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
